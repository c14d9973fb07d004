// `npm run check` given bad input, run as a person runs it: one clear error on stderr, nothing on
// stdout, exit 2, and no stack trace. Judged before anything heavy loads, so each run is short.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../ops/project";
import { checkInProcess, Outcome, scriptCheck } from "./runCheck";

describe("npm run check: bad input is on stderr, one problem per line wrapped to 100 columns, and exit 2", function () {
    this.timeout(60000);
    // Two cases run as a child process, what the exit code and streams really are; the others call
    // the same main() in this process.
    const direct = (...args: string[]): Promise<Outcome> => checkInProcess(...args);
    const child = async (...args: string[]): Promise<Outcome> => scriptCheck(...args);
    const brokenStack = `check-broken-${process.pid}`;
    const brokenFile = path.join(PROJECT_DIR, `Pulumi.${brokenStack}.yaml`);
    after(() => {
        fs.rmSync(brokenFile, { force: true });
        fs.rmSync(brokenFile.replace(/yaml$/, "json"), { force: true });
    });

    const cases: [string, () => Promise<Outcome>, RegExp][] = [
        ["an unknown stack", () => direct("--stack", "nosuch"), /^check: error: No stack "nosuch": there is no Pulumi\.nosuch\.yaml \(stacks here: [^)]*mastertest,\s+production/],
        ["an unknown role in --rollout", () => direct("--stack", "mastertest", "--rollout", "wsgi,web"), /^check: error: Invalid stack config \(1 problem\):\n {2}- cgap:rollout is "wsgi,web"; it names "web"/],
        ["an empty --rollout (an unset CI variable)", () => direct("--stack", "mastertest", "--rollout", ""), /^check: error: --rollout is empty; name the roles to roll out/],
        [
            "a stack file whose cgap:rollout is an empty list",
            () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, `${file}  cgap:rollout: []\n`);
                return direct("--stack", brokenStack);
            },
            /^check: error: Invalid stack config \(1 problem\):\n {2}- cgap:rollout is "\[\]"; it names no role/,
        ],
        [
            "a stack file whose cgap:rollout is empty text",
            () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, `${file}  cgap:rollout: ""\n`);
                return direct("--stack", brokenStack);
            },
            /^check: error: Invalid stack config \(1 problem\):\n {2}- cgap:rollout is ""; it names no role/,
        ],
        ["an unknown role in --target", () => direct("--stack", "mastertest", "--target", "web"), /^check: error: --target web: not a role/],
        ["a target outside the rollout", () => direct("--stack", "mastertest", "--rollout", "wsgi", "--target", "indexer"), /^check: error: --target indexer: not in cgap:rollout/],
        ["an unknown flag", () => child("--stack", "mastertest", "--force"), /^check: error: Unknown option '--force'/],
        ["an unknown --format", () => direct("--stack", "mastertest", "--format", "xml"), /^check: error: --format xml: use text, json or sarif$/m],
        [
            "policy config naming no policy of the pack",
            () => {
                fs.writeFileSync(brokenFile.replace(/yaml$/, "json"), JSON.stringify({ "iam-no-full-admn": "mandatory" }));
                return direct("--stack", "mastertest", "--policy-config", brokenFile.replace(/yaml$/, "json"));
            },
            /^check: error: --policy-config \S+: policy config\s+refused,\s+nothing\s+was\s+judged\s+\(1\s+problem;[^]*\n {2}- "iam-no-full-admn" is not a policy of this pack \(did you mean "iam-no-full-admin"\?\)\n$/,
        ],
        [
            "a stack file with no region, and none in the environment",
            async () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, file.replace(/^ {2}aws:region: us-east-1\n/m, ""));
                const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
                delete process.env.AWS_REGION;
                delete process.env.AWS_DEFAULT_REGION;
                try {
                    return await direct("--stack", brokenStack);
                } finally {
                    for (const [name, value] of Object.entries(saved)) {
                        if (value !== undefined) {
                            process.env[name] = value;
                        }
                    }
                }
            },
            /^check: error: Invalid stack config \(1 problem\):\n {2}- aws:region is not set, and neither AWS_REGION nor AWS_DEFAULT_REGION is:[\s\S]*pulumi config set aws:region us-east-1/,
        ],
        [
            "a search domain in another region than the app's",
            () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, `${file}  cgap:searchDomainArn: arn:aws:es:us-west-2:123456789012:domain/os-cgap-mastertest\n`);
                return direct("--stack", brokenStack);
            },
            /^check: error: Invalid stack config \(1 problem\):\n {2}- cgap:searchDomainArn is "arn:aws:es:us-west-2:[^"]*"; it is in\s+us-west-2; the portal only works in us-east-1/,
        ],
        [
            "an export name the estate's stacks do not export (a name of 4dn-cloud-infra before v1.0.0), with the names they do",
            () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, file.replace("  cgap:estate:\n", "  cgap:estate:\n    exports:\n      vpc: ExportVPC\n"));
                return child("--stack", brokenStack);
            },
            /^check: error: The CloudFormation export "c4-network-main-stack-ExportVPC" \(vpc: export ExportVPC of\s+stack c4-network-main-stack, cgap:estate\.networkStack\) could not be read: [^]*exports VPC,\s+PublicSubnetA,[^]*set cgap:estate\.exports\.vpc to the name this\s+4dn-cloud-infra version exports\.\n$/,
        ],
        [
            "a stack file that gives a key twice, naming the key",
            () => {
                const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
                fs.writeFileSync(brokenFile, `${file}  cgap:envName: cgap-other\n`);
                return direct("--stack", brokenStack);
            },
            /^check: error: Pulumi\.check-broken-\d+\.yaml is not valid YAML: cgap:envName is given twice \(the\s+second at line \d+, column 3\); keep one\n$/,
        ],
        [
            "a stack file that is not YAML",
            () => {
                fs.writeFileSync(brokenFile, "config:\n  cgap:envName: [unclosed\n");
                return direct("--stack", brokenStack);
            },
            /^check: error: Pulumi\.check-broken-\d+\.yaml is not valid YAML/,
        ],
    ];
    // Every way a policy config can lower a rollout gate, judged with an indexer-only rollout (which
    // the gate refuses): refused as bad input with the pack's own words, never judged.
    const policyFile = brokenFile.replace(/yaml$/, "json");
    const withPolicyConfig = (config: unknown) => () => {
        fs.writeFileSync(policyFile, JSON.stringify(config));
        return direct("--stack", "mastertest", "--rollout", "indexer", "--policy-config", policyFile);
    };
    const gateRefused = (asked: string, through = "") =>
        new RegExp(
            String.raw`^check: error: --policy-config \S+: policy config\s+refused,\s+nothing\s+was\s+judged[^]*\n {2}- "indexer-deployment-bundle"\s+is\s+a\s+rollout\s+gate\s+and\s+stays\s+mandatory;\s+the\s+config\s+asks\s+for\s+"${asked}"` +
                through.split(" ").join(String.raw`\s+`),
        );
    for (const level of ["disabled", "advisory", "remediate"]) {
        cases.push([`policy config setting the indexer gate to ${level}`, withPolicyConfig({ "indexer-deployment-bundle": level }), gateRefused(level)]);
    }
    cases.push(
        ["policy config lowering the gate in the object form", withPolicyConfig({ "indexer-deployment-bundle": { enforcementLevel: "disabled" } }), gateRefused("disabled")],
        ["policy config lowering every gate through \"all\"", withPolicyConfig({ all: "disabled" }), gateRefused("disabled", String.raw` \(through "all": "disabled"\)`)],
        [
            "policy config with a misspelled enforcement level: names the policy and the file",
            withPolicyConfig({ "ecr-scan-on-push": "mandtory" }),
            /^check: error: --policy-config \S*check-broken-\d+\.json: policy config\s+refused[^]*\n {2}- "ecr-scan-on-push" sets enforcement level "mandtory"; levels\s+are\s+advisory,\s+mandatory,\s+remediate,\s+disabled\n$/,
        ],
    );
    for (const [what, run, message] of cases) {
        it(what, async () => {
            const { status, stdout, stderr } = await run();
            assert.strictEqual(status, 2, stderr);
            assert.strictEqual(stdout, "");
            assert.match(stderr, message);
            const lines = stderr.trimEnd().split("\n");
            assert.ok(lines.every((line) => line.length <= 100), `a line is wider than 100 columns:\n${stderr}`);
            assert.ok(!/\n\s+at /.test(stderr), `a stack trace:\n${stderr}`);
        });
    }
});
