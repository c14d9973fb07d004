// `npm run exec`: which task it picks, the line it runs, and every refusal, against aws-sdk-client-mock.

import * as assert from "node:assert/strict";
import { DescribeTasksCommand, ECSClient, ListTasksCommand, type ListTasksCommandInput, type Task } from "@aws-sdk/client-ecs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { describeError, EXIT } from "../../ops/cli";
import { executeCommandArgs, findExecTask, main, readExecInputs, shellLine } from "../../ops/aws/exec";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { ACCOUNT, REGION, sampleOutputs, writeOutputsFile } from "./fixtures";

const ids = { a: "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", b: "6c5b4a3f2e1d40c9b8a7f6e5d4c3b2a1" };
const arn = (id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/cgap-mastertest/${id}`;

function task(id: string, opts: { exec?: boolean; agent?: string; lastStatus?: string } = {}): Task {
    return {
        taskArn: arn(id),
        lastStatus: opts.lastStatus ?? "RUNNING",
        enableExecuteCommand: opts.exec ?? true,
        containers: [
            {
                name: "Ingester",
                lastStatus: "RUNNING",
                managedAgents: opts.agent === undefined ? [{ name: "ExecuteCommandAgent", lastStatus: "RUNNING" }] : [{ name: "ExecuteCommandAgent", lastStatus: opts.agent }],
            },
        ],
    };
}

const inputs = () => readExecInputs(new StackOutputs("mastertest", sampleOutputs()), "ingester");

describe("npm run exec", () => {
    let ecs: ECSClient;
    let mock: AwsClientStub<ECSClient>;
    let listed: ListTasksCommandInput[];

    beforeEach(() => {
        mock = mockClient(ECSClient);
        ecs = new ECSClient({ region: REGION, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" } });
        listed = [];
    });
    afterEach(() => mock.restore());

    function tasks(...found: Task[]): void {
        mock.on(ListTasksCommand).callsFake((input: ListTasksCommandInput) => {
            listed.push(input);
            return { taskArns: found.map((t) => t.taskArn!) };
        });
        mock.on(DescribeTasksCommand).resolves({ tasks: found });
    }

    it("picks a RUNNING task of the role's service whose exec agent runs", async () => {
        tasks(task(ids.a, { agent: "PENDING" }), task(ids.b));
        const picked = await findExecTask(ecs, inputs());
        assert.equal(picked.taskArn, arn(ids.b));
        assert.deepEqual(listed, [{ cluster: "cgap-mastertest", serviceName: "cgap-ingester", desiredStatus: "RUNNING" }]);
    });

    it("builds the aws ecs execute-command line for the task's container", () => {
        const args = executeCommandArgs(inputs(), task(ids.b), "python -c 'import os'", REGION);
        assert.equal(
            shellLine(["aws", ...args]),
            `aws ecs execute-command --region us-east-1 --cluster cgap-mastertest --task ${ids.b} --container Ingester ` +
                `--interactive --command 'python -c '\\''import os'\\'''`,
        );
    });

    it("no such task: the service runs none, exit 4", async () => {
        tasks();
        const err = await findExecTask(ecs, inputs()).catch((e: unknown) => e);
        assert.deepEqual(describeError(err), {
            message: "no running task of service cgap-ingester (ingester) in cluster cgap-mastertest; is the service scaled to 0?",
            exitCode: EXIT.notReady,
        });
    });

    it("a service that does not exist, exit 3", async () => {
        mock.on(ListTasksCommand).rejects(Object.assign(new Error("Service not found."), { name: "ServiceNotFoundException", $metadata: {} }));
        const err = await findExecTask(ecs, inputs()).catch((e: unknown) => e);
        assert.deepEqual(describeError(err), {
            message: "service cgap-ingester (ingester) in cluster cgap-mastertest not found (ServiceNotFoundException); are the stack outputs current?",
            exitCode: EXIT.aws,
        });
    });

    it("exec off for the role: says how to turn it on, exit 2", async () => {
        tasks(task(ids.a, { exec: false }));
        const err = await findExecTask(ecs, inputs()).catch((e: unknown) => e);
        assert.deepEqual(describeError(err), {
            message:
                "the tasks of service cgap-ingester (ingester) in cluster cgap-mastertest do not accept ECS Exec: set it on with " +
                "`pulumi config set cgap:exec ingester` and `pulumi up` (only tasks started after that accept sessions)",
            exitCode: EXIT.usage,
        });
    });

    it("the agent still starting, exit 4", async () => {
        tasks(task(ids.a, { agent: "PENDING" }));
        const err = await findExecTask(ecs, inputs()).catch((e: unknown) => e);
        assert.equal(describeError(err).exitCode, EXIT.notReady);
        assert.match(describeError(err).message, new RegExp(`ExecuteCommandAgent of task ${ids.a} is PENDING, not RUNNING`));
    });

    it("no credentials: the credentials line, exit 3", async () => {
        mock.on(ListTasksCommand).rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
        const err = await findExecTask(ecs, inputs()).catch((e: unknown) => e);
        assert.equal(describeError(err).exitCode, EXIT.aws);
        assert.match(describeError(err).message, /^no AWS credentials found/);
    });

    describe("main", () => {
        const outputs = () => writeOutputsFile(sampleOutputs());

        it("runs the line through the AWS CLI and exits with its code; --print prints it instead", async () => {
            tasks(task(ids.b));
            const ran: string[][] = [];
            const written: string[] = [];
            const originalErr = process.stderr.write.bind(process.stderr);
            const originalOut = process.stdout.write.bind(process.stdout);
            process.stderr.write = ((c: string) => written.push(`err:${c}`) > 0) as typeof process.stderr.write;
            process.stdout.write = ((c: string) => written.push(`out:${c}`) > 0) as typeof process.stdout.write;
            try {
                const code = await main(["--stack", "mastertest", "--outputs", outputs(), "--role", "ingester"], {
                    run: async (args) => {
                        ran.push(args);
                        return 7;
                    },
                });
                assert.equal(code, 7);
                const printed = await main(["--stack", "mastertest", "--outputs", outputs(), "--role", "ingester", "--print", "--command", "sh"]);
                assert.equal(printed, EXIT.ok);
            } finally {
                process.stderr.write = originalErr;
                process.stdout.write = originalOut;
            }
            assert.deepEqual(ran, [executeCommandArgs(inputs(), task(ids.b), "/bin/bash", REGION)]);
            assert.deepEqual(written, [
                `err:exec: task ${ids.b} of cgap-ingester: aws ecs execute-command --region us-east-1 --cluster cgap-mastertest --task ${ids.b} --container Ingester --interactive --command /bin/bash\n`,
                `out:aws ecs execute-command --region us-east-1 --cluster cgap-mastertest --task ${ids.b} --container Ingester --interactive --command sh\n`,
            ]);
        });

        it("--role must be a service role", async () => {
            await assert.rejects(main(["--stack", "mastertest", "--outputs", outputs(), "--role", "deployment"]), {
                message: '--role is "deployment"; it must be one of wsgi, indexer, ingester',
            });
        });
    });
});
