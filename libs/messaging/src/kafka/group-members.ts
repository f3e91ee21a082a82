import type { Kafka } from 'kafkajs';

interface GroupCoordinator {
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<GroupCoordinator>;
}

/**
 * Removes members from a consumer group (a LeaveGroup request on their behalf
 * to the group's coordinator), as `kafka-consumer-groups.sh --delete` of a
 * member would. kafkajs 2.2.4 has no admin call for it; its own cluster
 * object, made the way the client makes it for a consumer, sends the request.
 */
export async function removeGroupMembers(kafka: Kafka, groupId: string, memberIds: readonly string[]): Promise<void> {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!create) throw new Error('this kafkajs version has no cluster factory to remove group members with (kafkajs 2.2.4 expected)');
  const cluster = (kafka as unknown as Record<symbol, (options: { allowAutoTopicCreation: boolean }) => KafkajsCluster>)[create]!({ allowAutoTopicCreation: false });
  await cluster.connect();
  try {
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    for (const memberId of memberIds) await coordinator.leaveGroup({ groupId, memberId });
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
