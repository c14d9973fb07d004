// The operator commands read what the program really exports: a rename on either side fails here.
import * as assert from "assert";
import { readDeploymentTaskInputs } from "../../ops/aws/deploymentTask";
import { readExecInputs } from "../../ops/aws/exec";
import { readInfoInputs } from "../../ops/aws/info";
import { readPreflightInputs } from "../../ops/aws/preflight";
import { readLogsInputs } from "../../ops/aws/logs";
import { runProgram } from "../../ops/offline/program";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { mastertestOutputs, pickShape } from "./fixtures";

describe("the program's outputs, read by the operator commands", () => {
    for (const stack of ["mastertest", "production"]) {
        it(`deployment-task, info, preflight, logs and exec find everything they need in ${stack}'s outputs`, async () => {
            const { outputs, resources } = await runProgram({ stack, preview: false });
            const stackOutputs = new StackOutputs(stack, JSON.parse(JSON.stringify(outputs)));
            if (stack === "mastertest") {
                // The README's examples run the commands against this copy of the outputs.
                assert.deepStrictEqual(pickShape(stackOutputs.raw, mastertestOutputs()), mastertestOutputs());
            }

            const task = readDeploymentTaskInputs(stackOutputs);
            const services = resources.filter((r) => r.type === "aws:ecs/service:Service");
            assert.deepStrictEqual(
                Object.values(task.serviceNames).sort(),
                services.map((s) => s.plainInputs.name).sort(),
            );
            const deploymentTd = resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.name === "cgap-deployment")!;
            assert.strictEqual(task.task.taskDefinitionArn, deploymentTd.outputs.arn);
            const wsgi = services.find((s) => s.name === "cgap-wsgi")!.plainInputs as Record<string, any>;
            assert.deepStrictEqual(task.task.subnets, wsgi.networkConfiguration.subnets, "the deployment task runs where the services run");
            assert.deepStrictEqual(task.task.securityGroups, wsgi.networkConfiguration.securityGroups);

            const info = readInfoInputs(stackOutputs);
            assert.deepStrictEqual(info.tags, { wsgi: "latest", indexer: "latest-indexer", ingester: "latest-ingester", deployment: "latest-deployment" });
            assert.strictEqual(info.clusterName, task.clusterName);
            assert.strictEqual(task.environment, stack === "production" ? "production" : "development");

            const preflight = readPreflightInputs(stackOutputs);
            const taskRole = resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "cgap-roles-task")!;
            assert.strictEqual(preflight.taskRoleArn, taskRole.outputs.arn);
            const keyStatement = JSON.parse(
                resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "cgap-roles-task-policy")!.plainInputs.policy as string,
            ).Statement.find((s: { Sid: string }) => s.Sid === "DatastoreKeyThroughS3");
            assert.strictEqual(preflight.s3KmsKeyArn, keyStatement.Resource, "preflight checks the key the task role is granted");

            const logGroup = resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name === "cgap-logs")!;
            for (const role of ["wsgi", "indexer", "ingester", "deployment"] as const) {
                const logs = readLogsInputs(stackOutputs, role);
                assert.strictEqual(logs.groupName, logGroup.outputs.name);
                assert.strictEqual(logs.groupArn, logGroup.outputs.arn);
                const td = resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.name === `cgap-${role}`)!;
                const options = JSON.parse(String(td.plainInputs.containerDefinitions))[0].logConfiguration.options;
                assert.strictEqual(logs.streamPrefix, `${options["awslogs-stream-prefix"]}/`, `${role} reads the streams its tasks write`);
            }
            for (const role of ["wsgi", "indexer", "ingester"] as const) {
                const exec = readExecInputs(stackOutputs, role);
                const td = resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.name === `cgap-${role}`)!;
                assert.strictEqual(exec.containerName, JSON.parse(String(td.plainInputs.containerDefinitions))[0].name);
                assert.strictEqual(exec.serviceName, task.serviceNames[role]);
            }
        });
    }
});
