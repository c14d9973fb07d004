// The example runs of the operator commands in README.md and docs/*.md are what the commands print. A block marked
// `<!-- example: <name> -->` is a transcript: `$ npm run <command> -- <args>`, what the command
// writes (stderr and stdout in the order written, as a terminal shows them), then `$ echo $?` and
// the exit code. Each is replayed here through the command's own `main` and `runMain` (the
// entry its npm script runs), with the SDK clients stubbed at class level to give the AWS answers
// the example is about, against the mastertest stack's outputs (fixtures.ts: the program's own,
// held to it by contract.spec.ts). The block must equal the replay, character for character.
//
// What the replay adds to the arguments shown: `--outputs <file>` (the stack's outputs, where a
// real run asks the pulumi CLI), and for deployment-task a short `--poll-interval`, which changes
// no line it prints. Date.now is fixed at NOW, so the times `logs` prints are the README's.
//
// After changing what a command prints: `UPDATE_README_EXAMPLES=1 npx mocha test/ops/readme.spec.ts`
// writes the replays into README.md and docs/*.md; read the diff before committing it.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    CloudWatchLogsClient,
    FilterLogEventsCommand,
    GetLogEventsCommand,
    StartLiveTailCommand,
    type GetLogEventsCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import { DescribeImagesCommand, ECRClient, type DescribeImagesCommandInput } from "@aws-sdk/client-ecr";
import {
    DescribeServicesCommand,
    DescribeTaskDefinitionCommand,
    DescribeTasksCommand,
    ECSClient,
    ListServiceDeploymentsCommand,
    ListTasksCommand,
    RunTaskCommand,
    type DescribeTaskDefinitionCommandInput,
    type ListServiceDeploymentsCommandInput,
    type Service,
    type ServiceDeploymentBrief,
    type Task,
} from "@aws-sdk/client-ecs";
import { GetKeyPolicyCommand, KMSClient, ListGrantsCommand } from "@aws-sdk/client-kms";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { CONFIG_KEYS } from "../../components/config";
import { ROLE_SPECS, type Role } from "../../components/roles";
import { main as deploymentTask } from "../../ops/aws/deploymentTask";
import { main as exec } from "../../ops/aws/exec";
import { main as info } from "../../ops/aws/info";
import { main as logs } from "../../ops/aws/logs";
import { main as preflight } from "../../ops/aws/preflight";
import { runMain } from "../../ops/cli";
import { main as check } from "../../ops/offline/check";
import { PROJECT_DIR } from "../../ops/project";
import { SHARED_PACKS } from "../check/runCheck";
import { ACCOUNT, REGION, REPOSITORY_URL, digest, mastertestOutputs, settledService, writeOutputsFile } from "./fixtures";

/** README.md and every guide in docs/: the files whose marked examples are replayed and whose links must resolve. */
function docFiles(): string[] {
    const docs = path.join(PROJECT_DIR, "docs");
    const guides = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => path.join(docs, f)) : [];
    return [path.join(PROJECT_DIR, "README.md"), ...guides];
}
const NOW = Date.parse("2026-11-28T07:15:36.652Z");
const OUTPUTS = mastertestOutputs();
const SERVICE = OUTPUTS.serviceNames as Record<Exclude<Role, "deployment">, string>;
const CLUSTER = OUTPUTS.clusterName as string;
const TASK_ID = "4c8e1a2b9d7f4e0a8b6c5d4e3f2a1b0c";
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/${TASK_ID}`;

// ---- reading and writing the README's marked blocks ----

interface ExampleBlock {
    name: string;
    /** The block's text, without its fences. */
    body: string;
    /** Where the body starts and ends in the README, for rewriting it. */
    start: number;
    end: number;
}

// The marker must be the line right above the fence: a marker that drifts away from its block
// would otherwise check the next block down.
const MARKED_BLOCK = /<!-- example: ([\w-]+) -->\n```[a-z]*\n([\s\S]*?)\n```/dg;

/** Every marked block, in README order. */
function exampleBlocks(readme: string): ExampleBlock[] {
    return [...readme.matchAll(MARKED_BLOCK)].map((m) => {
        const [start, end] = m.indices![2];
        return { name: m[1], body: m[2], start, end };
    });
}

/** The README with each named block's body replaced. */
function withBodies(readme: string, bodies: Map<string, string>): string {
    let text = readme;
    for (const block of exampleBlocks(readme).reverse()) {
        const body = bodies.get(block.name);
        if (body !== undefined) {
            text = text.slice(0, block.start) + body + text.slice(block.end);
        }
    }
    return text;
}

/** `$ npm run <command> -- <args>   # a comment` -> the command and its arguments. */
function commandLine(line: string): { command: string; args: string[] } {
    const m = /^\$ npm run ([\w-]+)(?: -- ([^#]*?))?\s*(?:#.*)?$/.exec(line);
    if (m === null || /["'\\$`]/.test(m[2] ?? "")) {
        throw new Error(`an example starts with "$ npm run <command> -- <plain args>", not: ${line}`);
    }
    return { command: m[1], args: (m[2] ?? "").split(/\s+/).filter((a) => a !== "") };
}

/** What the block should be: its command line, what the command wrote, and the exit code. */
function transcript(commandLineText: string, written: string, exitCode: number): string {
    return `${commandLineText}\n${written}$ echo $?\n${exitCode}`;
}

// ---- running a command as its npm script does ----

interface Stubs {
    ecs: AwsClientStub<ECSClient>;
    ecr: AwsClientStub<ECRClient>;
    logs: AwsClientStub<CloudWatchLogsClient>;
    kms: AwsClientStub<KMSClient>;
    /** Ctrl-C: what a `--follow` ends with. */
    interrupt(): void;
}

type Main = (args: string[], signal: AbortSignal) => Promise<number>;

const COMMANDS: Record<string, Main> = {
    // The task's status is polled every 6 s; the stubs answer at once, so the wait only costs time.
    "deployment-task": (args) => deploymentTask([...args, "--poll-interval", "0.001"]),
    info: (args) => info(args),
    preflight: (args) => preflight(args),
    logs: (args, signal) => logs(args, signal),
    exec: (args) =>
        exec(args, { run: () => Promise.reject(new Error("an example would start the AWS CLI; show it with --print")) }),
};

/** Runs the block's command line; returns what it wrote to stderr and stdout, interleaved, and its exit code. */
async function replay(line: string, outputsFile: string, signal: AbortSignal): Promise<{ written: string; exitCode: number }> {
    const { command, args } = commandLine(line);
    if (command === "check") {
        // Offline by design: no outputs, no AWS. Its streams as a pipe gives them (no terminal width).
        const written: string[] = [];
        const io = { stdout: { write: (t: string) => written.push(t) }, stderr: { write: (t: string) => written.push(t) } };
        const exitCode = await check(args, io, SHARED_PACKS);
        return { written: written.join(""), exitCode };
    }
    const main = COMMANDS[command];
    assert.ok(main !== undefined, `no replay for npm run ${command}`);
    const written: string[] = [];
    const write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
    const saved = { out: process.stdout.write, err: process.stderr.write, now: Date.now, exitCode: process.exitCode };
    process.stdout.write = write;
    process.stderr.write = write;
    Date.now = () => NOW;
    process.exitCode = undefined;
    try {
        await runMain(command, () => main([...args, "--outputs", outputsFile], signal));
        return { written: written.join(""), exitCode: Number(process.exitCode) };
    } finally {
        process.stdout.write = saved.out;
        process.stderr.write = saved.err;
        Date.now = saved.now;
        process.exitCode = saved.exitCode;
    }
}

// ---- the AWS answers the examples are about ----

function taskDefinitionArn(role: Role, revision: number): string {
    return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${CLUSTER}-${role}:${revision}`;
}

/** The three services at steady state at mastertest's default counts, with `changes` laid over them. */
function services(changes: Partial<Record<Exclude<Role, "deployment">, Partial<Service>>> = {}): Service[] {
    const counts = { wsgi: 2, indexer: 4, ingester: 1 } as const;
    return (["wsgi", "indexer", "ingester"] as const).map((role) => ({
        ...settledService(SERVICE[role], taskDefinitionArn(role, 3), counts[role]),
        ...changes[role],
    }));
}

interface TaskPhase {
    /** What DescribeTasks says, one call per phase (the last one repeats). */
    task: Task;
    /** The container's log lines written by then. */
    log?: string[];
}

/** RunTask starts the deployment task, which goes through `phases`; its log stream grows with them. */
function deploymentRun(stubs: Stubs, phases: TaskPhase[]): void {
    let described = 0;
    stubs.ecs.on(DescribeServicesCommand).resolves({ services: services() });
    stubs.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: "PROVISIONING" }] });
    stubs.ecs.on(DescribeTasksCommand).callsFake(() => {
        const phase = phases[Math.min(described, phases.length - 1)];
        described++;
        return { tasks: [{ taskArn: TASK_ARN, ...phase.task }] };
    });
    // GetLogEvents' own paging: the token says how far the reader got; at the end it comes back unchanged.
    stubs.logs.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => {
        const written = phases.slice(0, described).flatMap((p) => p.log ?? []);
        const from = input.nextToken === undefined ? 0 : Number(input.nextToken.slice("f/".length));
        return { events: written.slice(from).map((message) => ({ message: `${message}\n` })), nextForwardToken: `f/${written.length}` };
    });
}

function stopped(stopCode: Task["stopCode"], stoppedReason: string, exitCode: number): Task {
    return { lastStatus: "STOPPED", stopCode, stoppedReason, containers: [{ name: "DeploymentAction", exitCode }] };
}

/** The deployment script's own lines (images/entrypoint_deployment.sh) for a routine deployment. */
const STEP = {
    start: "deployment: routine deployment of cgap-portal v15.6.0: starting",
    mapping: "deployment: running create-mapping-on-deploy production.ini --app-name app --staggered",
    views: "deployment: running load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype higlass_view_config",
    users: "deployment: running load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype user",
    keys:
        "deployment: running load-access-keys (as python3 /opt/cgap/load_access_keys.py production.ini --app-name app " +
        "--secret-name C4DatastoreCgapMastertestApplicationConfiguration)",
    done: "deployment: all steps of the routine deployment succeeded",
};

interface InfoAnswers {
    /** Tag to the digest ECR holds; a tag left out is missing. */
    pushed: Record<string, string>;
    /** Role to the digest its task definition names. */
    running: Record<Role, string>;
    services?: Service[];
    /** Service name to its latest service deployment (ListServiceDeployments). */
    latest?: Record<string, ServiceDeploymentBrief>;
}

function infoAnswers(stubs: Stubs, answers: InfoAnswers): void {
    stubs.ecr.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
        const tag = input.imageIds?.[0]?.imageTag ?? "";
        if (answers.pushed[tag] === undefined) {
            throw Object.assign(new Error(`The image with imageId {imageTag:'${tag}'} does not exist`), { name: "ImageNotFoundException" });
        }
        return { imageDetails: [{ imageDigest: answers.pushed[tag], imagePushedAt: new Date("2024-05-02T09:41:07Z") }] };
    });
    stubs.ecs.on(DescribeServicesCommand).resolves({ services: answers.services ?? services() });
    stubs.ecs.on(ListServiceDeploymentsCommand).callsFake((input: ListServiceDeploymentsCommandInput) => ({
        serviceDeployments: [answers.latest?.[input.service ?? ""] ?? { status: "SUCCESSFUL" }],
    }));
    stubs.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: DescribeTaskDefinitionCommandInput) => {
        const family = /task-definition\/cgap-mastertest-(\w+):/.exec(input.taskDefinition ?? "")?.[1] as Role;
        const container = ROLE_SPECS[family].containerName;
        return { taskDefinition: { containerDefinitions: [{ name: container, image: `${REPOSITORY_URL}@${answers.running[family]}` }] } };
    });
}

const IN_SYNC = { wsgi: digest("3"), indexer: digest("9"), ingester: digest("5"), deployment: digest("8") };
const PUSHED = { latest: IN_SYNC.wsgi, "latest-indexer": IN_SYNC.indexer, "latest-ingester": IN_SYNC.ingester, "latest-deployment": IN_SYNC.deployment };

/** A log event of a task of the role, `minutesAgo` before NOW. */
function logEvent(role: Role, minutesAgo: number, message: string) {
    const timestamp = NOW - minutesAgo * 60_000;
    return { eventId: String(timestamp), logStreamName: `cgap-${role}/${ROLE_SPECS[role].containerName}/${TASK_ID}`, timestamp, message };
}

const INGESTER_WINDOW = [
    logEvent("ingester", 7, "ingestion-listener: polling cgap-mastertest-ingestion-queue"),
    logEvent("ingester", 5, "ingestion-listener: received 1 message(s)"),
    logEvent("ingester", 1, "ingestion-listener: submission 8f3a2c4e ingested"),
];

/** A task of the ingester service that ECS has started, with or without ECS Exec. */
function ingesterTask(execEnabled: boolean): Task {
    return {
        taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6`,
        lastStatus: "RUNNING",
        enableExecuteCommand: execEnabled,
        containers: [{ name: "Ingester", managedAgents: execEnabled ? [{ name: "ExecuteCommandAgent", lastStatus: "RUNNING" }] : [] }],
    };
}

/** Per marked block: the AWS answers its run gets. */
const EXAMPLES: Record<string, (stubs: Stubs) => void> = {
    // The README's tour: `check` runs offline, so these need no AWS answers.
    "check-partial-wsgi": () => undefined,
    "check-refusal-indexer": () => undefined,
    "deployment-task-routine": (stubs) =>
        deploymentRun(stubs, [
            { task: { lastStatus: "PENDING" } },
            { task: { lastStatus: "RUNNING" }, log: [STEP.start, STEP.mapping] },
            { task: { lastStatus: "RUNNING" }, log: [STEP.views, STEP.users, STEP.keys, STEP.done] },
            { task: stopped("EssentialContainerExited", "Essential container in task exited", 0) },
        ]),
    "deployment-task-rolling-out": (stubs) => {
        const inProgress = { ...services()[0].deployments![0], rolloutState: "IN_PROGRESS" as const, runningCount: 1 };
        const previous = { ...services()[0].deployments![0], id: "ecs-svc/previous", status: "ACTIVE" };
        stubs.ecs.on(DescribeServicesCommand).resolves({
            services: services({ wsgi: { runningCount: 1, deployments: [inProgress, previous] } }),
        });
    },
    "deployment-task-no-credentials": (stubs) => {
        // What the SDK's default credential chain throws when it finds nothing.
        stubs.ecs
            .on(DescribeServicesCommand)
            .rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    },
    preflight: (stubs) => {
        // The shape of 4dn-cloud-infra's key policy (datastore.py s3_encrypt_key): named IAM
        // principals, no statement for the account root.
        const allow = (sid: string, principal: string) => ({
            Sid: sid,
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:${principal}` },
            Action: "kms:*",
            Resource: "*",
        });
        stubs.kms.on(GetKeyPolicyCommand).resolves({
            Policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    allow("AllowDeployingUser", "user/c4-deploy"),
                    allow("AllowS3User", "user/c4-s3-user"),
                    allow("AllowECSRole", "role/c4-ecs-role"),
                ],
            }),
        });
        stubs.kms.on(ListGrantsCommand).resolves({ Grants: [], Truncated: false });
    },
    "info-drift": (stubs) =>
        infoAnswers(stubs, {
            pushed: { latest: IN_SYNC.wsgi, "latest-indexer": IN_SYNC.indexer, "latest-deployment": IN_SYNC.deployment },
            running: { ...IN_SYNC, indexer: digest("7") },
        }),
    "logs-window": (stubs) => {
        stubs.logs.on(FilterLogEventsCommand).resolves({ events: INGESTER_WINDOW });
    },
    "logs-follow": (stubs) => {
        stubs.logs.on(FilterLogEventsCommand).resolves({ events: INGESTER_WINDOW });
        async function* liveTail() {
            yield { sessionStart: {} };
            yield { sessionUpdate: { sessionResults: [logEvent("ingester", -1, "ingestion-listener: polling cgap-mastertest-ingestion-queue")] } };
            stubs.interrupt();
            await new Promise(() => undefined);
        }
        stubs.logs.on(StartLiveTailCommand).resolves({ responseStream: liveTail() as never });
    },
    "exec-print": (stubs) => {
        stubs.ecs.on(ListTasksCommand).resolves({ taskArns: [ingesterTask(true).taskArn!] });
        stubs.ecs.on(DescribeTasksCommand).resolves({ tasks: [ingesterTask(true)] });
    },
    "exec-no-task": (stubs) => {
        stubs.ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    },
    "exec-off": (stubs) => {
        stubs.ecs.on(ListTasksCommand).resolves({ taskArns: [ingesterTask(false).taskArn!] });
        stubs.ecs.on(DescribeTasksCommand).resolves({ tasks: [ingesterTask(false)] });
    },
    "info-rolled-back": (stubs) => {
        const at = (time: string) => new Date(`2024-05-02T${time}:00Z`);
        const wsgi = SERVICE.wsgi;
        infoAnswers(stubs, {
            pushed: PUSHED,
            running: { ...IN_SYNC, wsgi: digest("1") },
            services: services({
                wsgi: {
                    events: [
                        { id: "4", createdAt: at("10:20"), message: `(service ${wsgi}) has reached a steady state.` },
                        { id: "3", createdAt: at("10:12"), message: `(service ${wsgi}) rolling back to deployment ecs-svc/1111111111111111111.` },
                        {
                            id: "2",
                            createdAt: at("10:12"),
                            message: `(service ${wsgi}) (deployment ecs-svc/2222222222222222222) deployment failed: tasks failed to start.`,
                        },
                    ],
                },
            }),
            latest: {
                [wsgi]: {
                    status: "ROLLBACK_SUCCESSFUL",
                    statusReason: "Service deployment rolled back because the circuit breaker threshold was exceeded.",
                },
            },
        });
    },
    "deployment-task-spot-reclaim": (stubs) =>
        deploymentRun(stubs, [
            { task: { lastStatus: "RUNNING" }, log: [STEP.start, STEP.mapping] },
            { task: stopped("SpotInterruption", "Your Spot Task was interrupted.", 143) },
        ]),
    "deployment-task-not-placed": (stubs) => {
        stubs.ecs.on(DescribeServicesCommand).resolves({ services: services() });
        stubs.ecs.on(RunTaskCommand).resolves({
            tasks: [],
            failures: [{ reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone" }],
        });
    },
    "deployment-task-step-failed": (stubs) =>
        deploymentRun(stubs, [
            { task: { lastStatus: "RUNNING" }, log: [STEP.start, STEP.mapping, STEP.views] },
            {
                task: stopped("EssentialContainerExited", "Essential container in task exited", 1),
                log: ["deployment: load-data-by-type failed with status 1; stopping, the steps after it did not run"],
            },
        ]),
    "deployment-task-stopped-by-user": (stubs) =>
        deploymentRun(stubs, [
            { task: { lastStatus: "RUNNING" }, log: [STEP.start, STEP.mapping] },
            { task: stopped("UserInitiated", "Task stopped by user", 143) },
        ]),
};

describe("README and docs/: the example runs of the operator commands", () => {
    const files = docFiles().map((file) => ({ file, text: fs.readFileSync(file, "utf8") }));
    const blocks = files.flatMap(({ file, text }) => exampleBlocks(text).map((b) => ({ ...b, file })));
    const replayed = new Map<string, string>();
    let stubs: Stubs;
    let stop: AbortController;
    let outputsFile: string;

    before(() => {
        outputsFile = writeOutputsFile(OUTPUTS);
    });
    beforeEach(() => {
        stop = new AbortController();
        stubs = {
            ecs: mockClient(ECSClient),
            ecr: mockClient(ECRClient),
            logs: mockClient(CloudWatchLogsClient),
            kms: mockClient(KMSClient),
            interrupt: () => stop.abort("SIGINT"),
        };
    });
    afterEach(() => {
        stubs.ecs.restore();
        stubs.ecr.restore();
        stubs.logs.restore();
        stubs.kms.restore();
    });
    after(() => {
        if (process.env.UPDATE_README_EXAMPLES === "1") {
            for (const { file } of files) {
                fs.writeFileSync(file, withBodies(fs.readFileSync(file, "utf8"), replayed));
            }
        }
    });

    it("marks each example once, and each marked example has its AWS answers here", () => {
        const names = blocks.map((b) => b.name);
        const markers = files.reduce((n, { text }) => n + (text.match(/<!-- example: [\w-]+ -->/g)?.length ?? 0), 0);
        assert.equal(markers, blocks.length, "a marker that is not right above a fenced block");
        assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], "an example marked twice");
        assert.deepEqual([...names].sort(), Object.keys(EXAMPLES).sort());
    });

    for (const [name, answers] of Object.entries(EXAMPLES)) {
        it(`example: ${name}`, async () => {
            const block = blocks.find((b) => b.name === name);
            assert.ok(block !== undefined, `no README or docs/ block marked <!-- example: ${name} -->`);
            const line = block.body.split("\n")[0];
            answers(stubs);
            const { written, exitCode } = await replay(line, outputsFile, stop.signal);
            const expected = transcript(line, written, exitCode);
            replayed.set(name, expected);
            assert.equal(block.body, expected);
        });
    }

    describe("reading the blocks", () => {
        const sample = [
            "intro",
            "<!-- example: one -->",
            "```",
            "$ npm run info -- --stack s   # why",
            "out",
            "$ echo $?",
            "1",
            "```",
            "",
            "```",
            "unmarked",
            "```",
        ].join("\n");

        it("finds only marked blocks, and rewrites only their bodies", () => {
            assert.deepEqual(
                exampleBlocks(sample).map((b) => [b.name, b.body]),
                [["one", "$ npm run info -- --stack s   # why\nout\n$ echo $?\n1"]],
            );
            const rewritten = withBodies(sample, new Map([["one", "new"]]));
            assert.equal(rewritten, sample.replace("$ npm run info -- --stack s   # why\nout\n$ echo $?\n1", "new"));
        });

        it("reads the command line, comment and all, and refuses what it would not run as shown", () => {
            assert.deepEqual(commandLine("$ npm run logs -- --stack s --follow     # then Ctrl-C"), {
                command: "logs",
                args: ["--stack", "s", "--follow"],
            });
            assert.throws(() => commandLine("npm run logs -- --stack s"), /starts with/);
            assert.throws(() => commandLine(`$ npm run exec -- --command "ls -l"`), /plain args/);
        });
    });
});

// ---- relative links: a file that exists, a heading that is there ----

/**
 * The anchor GitHub gives a heading: lower case, every character that is not a letter, digit,
 * space, hyphen or underscore dropped, each space a hyphen; a repeated anchor gets -1, -2, ...
 * (github/cmark-gfm's and github-slugger's rule).
 */
export function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (/^\s*(```|~~~)/.test(line)) {
            fenced = !fenced;
            continue;
        }
        const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (m === null) {
            continue;
        }
        const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

/** Every relative link's target that does not resolve: `file: target (why)`. */
export function brokenLinks(file: string, markdown: string, exists: (p: string) => boolean, anchorsOf: (p: string) => Set<string>): string[] {
    const broken: string[] = [];
    const prose = markdown.replace(/^\s*(```|~~~)[\s\S]*?^\s*\1/gm, "");
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
            continue;
        }
        const [rel, anchor] = target.split("#", 2) as [string, string | undefined];
        const resolved = rel === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rel));
        if (!exists(resolved)) {
            broken.push(`${target} (no such file)`);
        } else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(decodeURIComponent(anchor))) {
            broken.push(`${target} (no heading with that anchor)`);
        }
    }
    return broken;
}

describe("README and docs/: relative links", () => {
    // docs/benchmarks.md is written by `npm run bench`; until a run has written it, a link to it
    // is a link to a file that appears, not a broken one.
    const GENERATED = new Set([path.join(PROJECT_DIR, "docs", "benchmarks.md")]);
    const exists = (p: string) => fs.existsSync(p) || GENERATED.has(p);
    const anchorsOf = (p: string) => headingAnchors(fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "");

    for (const file of docFiles()) {
        it(`${path.relative(PROJECT_DIR, file)}: every relative link points to a file and heading that exist`, () => {
            assert.deepEqual(brokenLinks(file, fs.readFileSync(file, "utf8"), exists, anchorsOf), []);
        });
    }

    it("anchors headings as GitHub does, and ignores headings in code blocks", () => {
        const md = ["# Speed: `npm run bench [-- --no-suite]`", "## A clean stop", "## A clean stop", "```", "# not a heading", "```", "### Is a re-run safe? (v15.6.0)"].join("\n");
        assert.deepEqual([...headingAnchors(md)], ["speed-npm-run-bench------no-suite", "a-clean-stop", "a-clean-stop-1", "is-a-re-run-safe-v1560"]);
    });

    it("finds a link to a missing file and to a missing heading, and leaves web links and code alone", () => {
        const md = ["[a](docs/gone.md) [b](docs/here.md#nowhere) [c](docs/here.md#there) [d](https://example.com/x)", "```", "[e](missing.md)", "```"].join("\n");
        const root = path.join(PROJECT_DIR, "README.md");
        const here = path.join(PROJECT_DIR, "docs", "here.md");
        assert.deepEqual(
            brokenLinks(root, md, (p) => p === here, () => new Set(["there"])),
            ["docs/gone.md (no such file)", "docs/here.md#nowhere (no heading with that anchor)"],
        );
    });
});

// ---- the config reference and the parser's key table ----

/** The keys the first column of the table under `## Stack config reference` names (`a`, `b`, `c` rows name several). */
export function documentedConfigKeys(markdown: string): string[] {
    const start = markdown.indexOf("\n## Stack config reference\n");
    assert.ok(start >= 0, "docs/rolling-out.md has no \"## Stack config reference\" section");
    const section = markdown.slice(start + 1).split(/\n## /)[0];
    const table = section.split("\n").filter((l) => l.startsWith("|"));
    assert.ok(table.length > 2 && /^\|\s*key\s*\|/.test(table[0]), "the config reference has no table whose first column is \"key\"");
    return table.slice(2).flatMap((row) => [...row.split("|")[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

describe("docs/rolling-out.md: the stack config reference", () => {
    const documented = documentedConfigKeys(fs.readFileSync(path.join(PROJECT_DIR, "docs", "rolling-out.md"), "utf8"));

    it("documents every key the config parser knows (components/config.ts CONFIG_KEYS)", () => {
        assert.deepEqual(CONFIG_KEYS.filter((k) => !documented.includes(k)), []);
    });

    it("documents no key the parser does not know, and none twice", () => {
        assert.deepEqual(documented.filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k)), []);
        assert.deepEqual(documented.filter((k, i) => documented.indexOf(k) !== i), []);
    });

    it("reads every key of a row that names several, and only the key column", () => {
        const md = ["## Stack config reference", "", "| key | what |", "|---|---|", "| `a`, `b` | see `c` |", "| `d` | |", "", "## Next", "| key | what |", "|---|---|", "| `e` | |"].join("\n");
        assert.deepEqual(documentedConfigKeys(`intro\n${md}`), ["a", "b", "d"]);
    });
});
