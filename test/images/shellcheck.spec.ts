import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROLE_SPECS, ROLES } from "../../components/roles";
import { IMAGES, requireProgram } from "./support";

/** Files under images/ that start with a shell #! line, relative to images/. */
function shellScripts(): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(full);
            } else if (/^#!.*\bsh\b/.test(fs.readFileSync(full, "utf8").split("\n", 1)[0])) {
                found.push(path.relative(IMAGES, full));
            }
        }
    };
    walk(IMAGES);
    return found.sort();
}

describe("images/ scripts are clean", () => {
    const scripts = shellScripts();

    it("finds every role script and assume_identity", () => {
        for (const name of [...ROLES.map((r) => ROLE_SPECS[r].entrypoint), "assume_identity"]) {
            assert.ok(scripts.includes(name), `${name} is not among the shell scripts found: ${scripts.join(", ")}`);
        }
    });

    it("every script is POSIX sh (#!/bin/sh)", () => {
        for (const name of scripts) {
            const first = fs.readFileSync(path.join(IMAGES, name), "utf8").split("\n", 1)[0];
            assert.equal(first, "#!/bin/sh", `${name} starts with ${first}`);
        }
    });

    it("shellcheck finds nothing, at any severity, in any script", () => {
        const shellcheck = requireProgram("shellcheck", "shellcheck");
        const result = spawnSync(
            shellcheck,
            ["--shell=sh", "--external-sources", "--severity=style", "--format=gcc", ...scripts],
            { cwd: IMAGES, encoding: "utf8", timeout: 20000 },
        );
        assert.equal(result.error, undefined, String(result.error));
        assert.equal(result.status, 0, `shellcheck reported:\n${result.stdout}${result.stderr}`);
    });

    it("assume_identity.py is valid Python", () => {
        const python = requireProgram("python3", "python3");
        const result = spawnSync(
            python,
            ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", "assume_identity.py"],
            { cwd: IMAGES, encoding: "utf8", timeout: 20000 },
        );
        assert.equal(result.status, 0, result.stderr);
    });
});
