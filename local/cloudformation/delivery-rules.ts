/**
 * Which requests' events Lambda delivers twice, as its at-least-once delivery
 * of asynchronous events allows: rules a test sets, matched by request type
 * and logical id.
 */
import type { Delivery } from './deployed-functions';
import type { CloudFormationRequest, RequestType } from './requests';

/** Requests whose event Lambda delivers twice: those of this type and resource (any, when left out). */
export interface DuplicateDelivery {
  readonly delivery: Exclude<Delivery, 'once'>;
  readonly requestType?: RequestType;
  readonly logicalId?: string;
  /**
   * Requests it applies to.
   *
   * @default - every matching request
   */
  readonly times?: number;
}

export class DeliveryRules {
  private rules: Array<DuplicateDelivery & { remaining: number }> = [];

  add(rule: DuplicateDelivery): void {
    const remaining = rule.times ?? Infinity;
    if (!(remaining >= 1)) {
      throw new Error(`deliverTwice: times must be >= 1, got ${remaining}`);
    }
    this.rules.push({ ...rule, remaining });
  }

  /** How the first rule matching the request delivers it (one of its times used up), if one matches. */
  take(request: CloudFormationRequest): Delivery | undefined {
    const rule = this.rules.find((r) => (r.requestType ?? request.RequestType) === request.RequestType
      && (r.logicalId ?? request.LogicalResourceId) === request.LogicalResourceId);
    if (!rule) {
      return undefined;
    }
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.delivery;
  }
}
