import { Module, type DynamicModule } from '@nestjs/common';
import type { ProjectorConfig } from './projector.config';
import { PROJECTOR_CONFIG, ProjectorRunner } from './projector.runner';

/** The read-model projector. Requires PlatformModule, EventStoreModule and ReadModelsModule. */
@Module({})
export class ProjectorModule {
  static register(config: ProjectorConfig): DynamicModule {
    return { module: ProjectorModule, providers: [{ provide: PROJECTOR_CONFIG, useValue: config }, ProjectorRunner], exports: [ProjectorRunner] };
  }
}
