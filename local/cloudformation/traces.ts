/**
 * Where a piece of text (a ResponseURL, a secret) was left behind by the
 * functions of a stack: in what Step Functions keeps of an execution, in what
 * the endpoints recorded of their calls, or in a log record.
 */
import type { CloudFormationCall } from './cloudformation-endpoint';
import type { LogRecord } from './lambda';
import type { ParameterStoreCall } from './parameter-store-endpoint';
import type { Execution } from './step-functions';
import type { StepFunctionsCall } from './step-functions-endpoint';

export interface Recorded {
  readonly executions: readonly Execution[];
  readonly stepFunctionsCalls: readonly StepFunctionsCall[];
  readonly logs: readonly LogRecord[];
  readonly parameterStoreCalls: readonly ParameterStoreCall[];
  readonly cloudFormationCalls: readonly CloudFormationCall[];
}

/** One line per place `text` appears, e.g. `execution <arn>: input`, `log record 3 of <function>`. */
export function tracesOf(text: string, recorded: Recorded): string[] {
  if (text === '') {
    throw new Error('tracesOf: the text to look for is empty');
  }
  const found: string[] = [];
  const check = (where: string, value: unknown) => {
    if (value !== undefined && (typeof value === 'string' ? value : JSON.stringify(value)).includes(text)) {
      found.push(where);
    }
  };
  for (const execution of recorded.executions) {
    for (const field of ['name', 'input', 'output', 'error', 'cause', 'events'] as const) {
      check(`execution ${execution.executionArn}: ${field}`, execution[field]);
    }
  }
  recorded.stepFunctionsCalls.forEach((call, i) => check(`Step Functions call ${i} (${call.operation})`, call.input));
  recorded.logs.forEach((log, i) => check(`log record ${i} of ${log.functionLogicalId}`, log.message));
  recorded.parameterStoreCalls.forEach((call, i) => check(`Parameter Store call ${i} (${call.operation})`, call));
  recorded.cloudFormationCalls.forEach((call, i) => check(`CloudFormation call ${i} (${call.action})`, call.params));
  return found;
}
