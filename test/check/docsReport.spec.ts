// docs/compliance.md shows an excerpt of production's compliance report. Its summary and every
// result it shows must be what `npm run check -- --stack production --format json` prints now:
// the lines marked `...` stand for the results left out, nothing else may differ. Its policy table
// lists every policy of the pack with the control and severity the pack gives it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../../ops/project";
import { complianceChecks, compliancePolicies, productionPolicies, rolloutPolicies } from "../../policy/policies";
import { checkInProcess } from "./runCheck";

const COMMAND = "$ npm run check -- --stack production --format json\n";

/** The report the guide shows, with its `...` lines (results left out) dropped. */
export function shownReport(markdown: string): Record<string, unknown> & { results: unknown[] } {
    const start = markdown.indexOf(COMMAND);
    assert.ok(start >= 0, `docs/compliance.md no longer shows ${COMMAND.trim()}`);
    const body = markdown.slice(start + COMMAND.length, markdown.indexOf("\n```", start));
    return JSON.parse(body.split("\n").filter((l) => l.trim() !== "...").join("\n"));
}

describe("docs/compliance.md: the production compliance report it shows", () => {
    it("is what the check prints for production: the same summary, and each result shown among the run's", async () => {
        const shown = shownReport(fs.readFileSync(path.join(PROJECT_DIR, "docs", "compliance.md"), "utf8"));
        const { status, stdout } = await checkInProcess("--stack", "production", "--format", "json");
        assert.equal(status, 0, stdout);
        const run = JSON.parse(stdout) as { results: unknown[] };
        // The provenance says when, from which commit and with which pack this run was made: the
        // guide shows its shape, not one run's values.
        const { results: shownResults, provenance: shownProvenance, ...shownHead } = shown;
        const { results, provenance, ...head } = run as typeof run & { provenance: Record<string, unknown> };
        assert.deepEqual(shownHead, head, "the report's header or summary differs from a run: paste the run's");
        assert.deepEqual(Object.keys(shownProvenance as object), Object.keys(provenance), "the provenance's fields differ from a run's");
        assert.ok(shownResults.length > 0, "the excerpt shows no result");
        for (const result of shownResults) {
            assert.ok(
                results.some((r) => JSON.stringify(r) === JSON.stringify(result)),
                `a result the guide shows is not in the run: ${JSON.stringify(result)}`,
            );
        }
    });

    it("reads the excerpt with its left-out results dropped", () => {
        const md = ["x", COMMAND + '{\n  "stack": "s",\n  "results": [\n    ...\n    { "a": 1 }\n    ...\n  ]\n}', "```"].join("\n");
        assert.deepEqual(shownReport(md), { stack: "s", results: [{ a: 1 }] });
    });
});

describe("docs/compliance.md: the policy table", () => {
    it("lists every policy of the pack once, with the control it cites and its severity", () => {
        const markdown = fs.readFileSync(path.join(PROJECT_DIR, "docs", "compliance.md"), "utf8");
        const rows = markdown
            .split("\n")
            .filter((l) => /^\| `[\w-]+` \|/.test(l))
            .map((l) => l.split(" | ").map((c) => c.replace(/^\| /, "")));
        const table = new Map(rows.map(([name, _level, control, severity]) => [name.replace(/`/g, ""), { control, severity }]));
        assert.strictEqual(table.size, rows.length, "a policy is listed twice");
        const policies = [...rolloutPolicies, ...productionPolicies, ...compliancePolicies];
        assert.deepStrictEqual([...table.keys()].sort(), policies.map((p) => p.name).sort());
        for (const policy of policies) {
            const check = complianceChecks.find((c) => c.name === policy.name);
            const control = check?.control ? `${check.control.standard} ${check.control.id}` : "–";
            assert.deepStrictEqual(table.get(policy.name), { control, severity: policy.severity }, policy.name);
        }
    });
});

