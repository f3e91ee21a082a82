import kafka from './kafka.global-teardown';
import postgres from './postgres.global-teardown';

export default async function teardown(): Promise<void> {
  await Promise.all([postgres(), kafka()]);
}
