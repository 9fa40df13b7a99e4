/**
 * A local AWS CloudFormation endpoint that answers `DescribeStacks` for the
 * stack being deployed, with the stack status the lifecycle is in. It speaks
 * the real wire protocol (awsQuery: a form-encoded POST, an XML answer), so the
 * handler's unmodified `@aws-sdk/client-cloudformation` reads it, and checks
 * the caller's access key against the emulated IAM.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { LocalServer } from './local-server';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** What the endpoint answers about: the stack and who may read it. */
export interface StackView {
  readonly stackId: string;
  readonly stackName: string;
  readonly creationTime: Date;
  /** Emulated time now: the answers' `Date` header (the SDK corrects its clock by it). */
  now(): Date;
  /** The stack's status right now, e.g. `UPDATE_ROLLBACK_IN_PROGRESS`. */
  status(): string;
  /** Whether the caller with this access key may call `cloudformation:<action>` on the stack. */
  isAllowed(accessKeyId: string | undefined, action: string): boolean;
}

/** One call received. */
export interface CloudFormationCall {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly accessKeyId?: string;
  /** HTTP status answered. */
  readonly status: number;
  /** The StackStatus answered, for DescribeStacks. */
  readonly stackStatus?: string;
}

export class LocalCloudFormationEndpoint {
  static async start(stack: StackView): Promise<LocalCloudFormationEndpoint> {
    const endpoint = new LocalCloudFormationEndpoint(stack);
    endpoint.server = await LocalServer.start((req, body, res) => endpoint.handle(req, body, res));
    return endpoint;
  }

  readonly calls: CloudFormationCall[] = [];
  private server!: LocalServer;

  private constructor(private readonly stack: StackView) {}

  /** Base URL, for `AWS_ENDPOINT_URL_CLOUDFORMATION`. */
  get endpoint(): string {
    return this.server.url;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const params = Object.fromEntries(new URLSearchParams(body));
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const action = params.Action ?? '';
    const answer = (status: number, xml: string, stackStatus?: string) => {
      this.calls.push({ action, params, accessKeyId, status, stackStatus });
      res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomUUID(), 'Date': this.stack.now().toUTCString() });
      res.end(xml);
    };

    if (req.method !== 'POST' || action !== 'DescribeStacks') {
      return answer(400, errorXml('Sender', 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`));
    }
    if (!this.stack.isAllowed(accessKeyId, action)) {
      return answer(403, errorXml('Sender', 'AccessDenied', `User: ${accessKeyId ?? 'anonymous'} is not authorized to perform: cloudformation:DescribeStacks on resource: ${this.stack.stackId} because no identity-based policy allows the cloudformation:DescribeStacks action`));
    }
    const name = params.StackName;
    if (name !== this.stack.stackId && name !== this.stack.stackName) {
      return answer(400, errorXml('Sender', 'ValidationError', `Stack with id ${name ?? ''} does not exist`));
    }
    const status = this.stack.status();
    return answer(200, describeStacksXml(this.stack, status), status);
  }
}

function describeStacksXml(stack: StackView, status: string): string {
  return `<DescribeStacksResponse xmlns="${XMLNS}">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackId>${escape(stack.stackId)}</StackId>
        <StackName>${escape(stack.stackName)}</StackName>
        <CreationTime>${stack.creationTime.toISOString()}</CreationTime>
        <StackStatus>${status}</StackStatus>
        <DisableRollback>false</DisableRollback>
        <Capabilities><member>CAPABILITY_IAM</member></Capabilities>
        <Tags/>
        <EnableTerminationProtection>false</EnableTerminationProtection>
        <DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</DescribeStacksResponse>
`;
}

function errorXml(type: string, code: string, message: string): string {
  return `<ErrorResponse xmlns="${XMLNS}">
  <Error><Type>${type}</Type><Code>${code}</Code><Message>${escape(message)}</Message></Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>
`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
