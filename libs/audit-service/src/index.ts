export * from './canonical-json';
export * from './merkle/merkle';
export * from './merkle/merkle-log';
export * from './audit.config';
export * from './audit.errors';
export * from './audit.module';
export * from './store/schema';
export * from './log/audit-entry';
export * from './log/audit-log';
export * from './tree-heads/tree-head';
export * from './export/audit-export';
export * from './verify/verify-export';
export * from './verify/check-store';
export * from './tree-heads/tree-heads';
export * from './decisions/replay-decision';
// What the history and decision routes answer, for clients typed from the server's own declarations (the web console).
export type { HistoryPage, HistoryItem } from './history/audit-history';
export type { DecisionsController } from './decisions/decisions.http.controller';
export * from './store-verifications/store-verification.view';
