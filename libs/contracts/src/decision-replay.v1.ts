import type { Decision } from '@el/domain';
import { checkProperties, decisionProperties, decisionRequired } from './check-api.v1';
import { decisionRecordSchemaV1, type DecisionRequestV1, type DecisionUsageV1 } from './decision-record.v1';

/**
 * POST /v1/audit/decisions/replay: a record of the decision log by id, or a
 * check with the position and instant it was decided at (and the usage values
 * it read, and optionally the decision answered, to compare).
 */
export type DecisionReplayRequestV1 =
  | { readonly decisionId: string }
  | {
      readonly request: DecisionRequestV1;
      readonly position: number;
      /** The instant the decision was about (ISO-8601). */
      readonly at: string;
      readonly usage?: readonly DecisionUsageV1[];
      readonly answered?: Decision;
    };

/** Replay a record of the decision log. */
export const decisionReplayByIdSchemaV1 = {
  $id: 'DecisionReplayByIdV1',
  type: 'object',
  additionalProperties: false,
  required: ['decisionId'],
  properties: { decisionId: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Replay a check from its inputs. */
export const decisionReplayByInputsSchemaV1 = {
  $id: 'DecisionReplayByInputsV1',
  type: 'object',
  additionalProperties: false,
  required: ['request', 'position', 'at'],
  properties: {
    request: { type: 'object', additionalProperties: false, required: ['customerId', 'feature'], properties: checkProperties },
    position: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    at: { type: 'string', format: 'date-time', maxLength: 40 },
    usage: decisionRecordSchemaV1.properties.usage,
    answered: { type: 'object', required: [...decisionRequired], properties: decisionProperties },
  },
} as const;

/** Either shape (for the OpenAPI document; a server validates against the one the body names: decisionId or not). */
export const decisionReplayRequestSchemaV1 = {
  $id: 'DecisionReplayRequestV1',
  oneOf: [
    { ...decisionReplayByIdSchemaV1, $id: undefined },
    { ...decisionReplayByInputsSchemaV1, $id: undefined },
  ],
} as const;
