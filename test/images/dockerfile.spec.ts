import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { tempDir } from "../tempDirs";
import { buildArgs, CACHE_STAGE, CONTAINER_PORT, IMAGE_USER, ROLE_SPECS, ROLES, sharedBuildArgs } from "../../components/roles";
import { WSGI_PORTS } from "../../components/appContract";
import {
    copyParts,
    declaredArgs,
    dockerignoreExcludes,
    downloads,
    finalStage,
    heavyAfterVolatile,
    independentAfterDependent,
    Instruction,
    parseDockerfile,
    readsContext,
    runDownloads,
    stages,
    usesArg,
} from "./dockerfile";
import { IMAGES } from "./support";

const dockerfileText = fs.readFileSync(path.join(IMAGES, "Dockerfile"), "utf8");
const instructions = parseDockerfile(dockerfileText);
const dockerignore = fs.readFileSync(path.join(IMAGES, ".dockerignore"), "utf8");

const BUILDKIT_PLATFORM_ARGS = ["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"];

const describeAll = (list: Instruction[]) => list.map((i) => `line ${i.line}: ${i.keyword} ${i.args}`).join("\n");

describe("images/Dockerfile", () => {
    it("runs as the user the task definitions name (ECS.20 reads the task definition, not the image)", () => {
        const users = finalStage(instructions).filter((i) => i.keyword === "USER");
        assert.deepEqual(users.map((i) => i.args), [IMAGE_USER]);
    });

    describe("build args", () => {
        for (const role of ROLES) {
            it(`declares exactly the build args the program passes for the ${role} role`, () => {
                const passed = Object.keys(buildArgs(role, "v15.6.0")).sort();
                // Besides BuildKit's own platform args, which it sets from the platform built
                // (https://docs.docker.com/build/building/variables/#pre-defined-build-arguments).
                const declared = [...declaredArgs(instructions)].filter((name) => !BUILDKIT_PLATFORM_ARGS.includes(name));
                assert.deepEqual(declared.sort(), passed);
            });

            it(`has the ${role} role's script, ${ROLE_SPECS[role].entrypoint}, in the build context`, () => {
                const file = path.join(IMAGES, ROLE_SPECS[role].entrypoint);
                assert.ok(fs.existsSync(file), `images/${ROLE_SPECS[role].entrypoint} is missing`);
                assert.match(fs.readFileSync(file, "utf8"), /^#!\/bin\/sh\n/, "role scripts are POSIX sh");
                assert.equal(
                    dockerignoreExcludes(dockerignore, ROLE_SPECS[role].entrypoint),
                    false,
                    ".dockerignore keeps the script out of the build context",
                );
            });
        }

        it("builds the WSGI role when ENTRYPOINT is not given", () => {
            const arg = instructions.find((i) => i.keyword === "ARG" && /^ENTRYPOINT\b/.test(i.args));
            assert.ok(arg, "no ARG ENTRYPOINT");
            assert.equal(arg.args, `ENTRYPOINT=${ROLE_SPECS.wsgi.entrypoint}`);
        });

        it("builds the cgap-portal release tag or commit named by CGAP_VERSION, for real against a stand-in repository", () => {
            const fetch = instructions.find((i) => i.keyword === "RUN" && /git\b.*\bfetch\b/.test(i.args));
            assert.ok(fetch, "no RUN that fetches the app");
            const url = "https://github.com/dbmi-bgm/cgap-portal.git";
            assert.ok(fetch.args.includes(url), fetch.args);
            assert.match(fetch.args, /test -n "\$CGAP_VERSION"/, "a missing CGAP_VERSION must fail the build clearly");
            // A stand-in for GitHub: a tag, then a later commit, served by SHA as GitHub serves them.
            const root = tempDir("cgap-fetch-");
            const source = path.join(root, "cgap-portal");
            const git = (...args: string[]) =>
                execFileSync("git", ["-c", "user.email=ci@example.org", "-c", "user.name=ci", ...args], { cwd: source, encoding: "utf8" }).trim();
            fs.mkdirSync(source);
            git("init", "-q");
            git("commit", "-q", "--allow-empty", "-m", "release");
            git("tag", "v15.6.0");
            git("commit", "-q", "--allow-empty", "-m", "later");
            const sha = git("rev-parse", "HEAD");
            git("config", "uploadpack.allowAnySHA1InWant", "true");
            const script = fetch.args.split(url).join(`file://${source}`);
            for (const [version, subject] of [["v15.6.0", "release"], [sha, "later"]]) {
                const home = path.join(root, `app-${subject}`);
                const built = spawnSync("sh", ["-c", `${script} && echo ok`], {
                    env: { ...process.env, CGAP_VERSION: version, APP_HOME: home },
                    encoding: "utf8",
                });
                assert.equal(built.status, 0, built.stderr);
                assert.ok(!fs.existsSync(path.join(home, ".git")), "the history must not ship");
            }
            const missing = spawnSync("sh", ["-c", script], { env: { ...process.env, CGAP_VERSION: "", APP_HOME: path.join(root, "none") }, encoding: "utf8" });
            assert.notEqual(missing.status, 0);
            assert.match(missing.stderr, /CGAP_VERSION is required: a cgap-portal release tag \(e\.g\. v15\.6\.0\) or a full commit SHA/);
        });
    });

    describe("bytecode", () => {
        const compile = () => {
            const found = instructions.filter((i) => i.keyword === "RUN" && /\bcompileall\b/.test(i.args));
            assert.equal(found.length, 1, describeAll(found));
            return found[0];
        };

        it("compiles the virtualenv and the app in the build stage, after both are installed", () => {
            const run = compile();
            const build = stages(instructions).find((stage) => stage.name === CACHE_STAGE);
            assert.ok(build, `no ${CACHE_STAGE} stage`);
            assert.ok(build.instructions.includes(run), "compileall runs in the build stage, whose /opt/venv the runtime copies");
            const installs = build.instructions.filter((i) => i.keyword === "RUN" && /poetry install|setup_eb\.py develop/.test(i.args));
            assert.ok(installs.length > 0);
            for (const install of installs) {
                assert.ok(install.line < run.line, `line ${install.line} installs after the compile`);
            }
            assert.match(run.args, /"\$VIRTUAL_ENV\/lib"/);
            assert.match(run.args, /"\$APP_HOME\/src"/);
        });

        it("leaves bytecode that a read-only install uses as it is, whatever the sources' timestamps", () => {
            const root = tempDir("bytecode");
            const venv = path.join(root, "venv");
            const app = path.join(root, "app");
            const bin = path.join(root, "bin");
            for (const dir of [path.join(venv, "lib", "pkg"), path.join(app, "src", "encoded"), bin]) {
                fs.mkdirSync(dir, { recursive: true });
            }
            fs.writeFileSync(path.join(venv, "lib", "pkg", "__init__.py"), "VALUE = 1\n");
            fs.writeFileSync(path.join(app, "src", "encoded", "__init__.py"), "from pkg import VALUE\n");
            fs.writeFileSync(path.join(venv, "lib", "pkg", "py2_leftover.py"), "print 'not python 3'\n");
            const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
            fs.symlinkSync(python, path.join(bin, "python"));
            const env = { PATH: `${bin}:/usr/bin:/bin`, VIRTUAL_ENV: venv, APP_HOME: app };
            const built = spawnSync("sh", ["-c", compile().args], { env, encoding: "utf8" });
            assert.equal(built.status, 0, `a file that does not compile must not fail the build\n${built.stdout}${built.stderr}`);
            assert.match(built.stdout, /py2_leftover\.py/);
            assert.match(built.stdout, /compileall: the files listed above do not compile and were skipped/);
            // As in the runtime stage: sources newer than their bytecode, nothing writable.
            const later = new Date(Date.now() + 3600_000);
            for (const file of [path.join(venv, "lib", "pkg", "__init__.py"), path.join(app, "src", "encoded", "__init__.py")]) {
                fs.utimesSync(file, later, later);
            }
            const readOnly = (dir: string, mode: number) => {
                for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                    if (entry.isDirectory()) {
                        readOnly(path.join(dir, entry.name), mode);
                    }
                }
                fs.chmodSync(dir, mode);
            };
            readOnly(root, 0o555);
            try {
                const started = spawnSync(python, ["-v", "-c", "import encoded"], {
                    env: { PATH: env.PATH, PYTHONPATH: `${path.join(venv, "lib")}:${path.join(app, "src")}` },
                    encoding: "utf8",
                });
                assert.equal(started.status, 0, started.stderr);
                for (const module of [path.join("lib", "pkg"), path.join("src", "encoded")]) {
                    const cached = new RegExp(`code object from '[^']*${module.replace(/\//g, "\\/")}/__pycache__/__init__\\.cpython-\\d+\\.pyc'`);
                    assert.match(started.stderr, cached, `${module} was compiled again at start`);
                }
            } finally {
                readOnly(root, 0o755);
            }
        });
    });

    describe("linux/arm64", () => {
        // cgap-portal v15.6.0 poetry.lock: the packages that ship binary wheels but none for linux
        // aarch64 and CPython 3.11 (pywin32 is Windows-only), and what the build stage needs to
        // build each from source.
        const NO_AARCH64_WHEEL = { "h5py 3.11.0": ["libhdf5-dev", "pkg-config"], "psutil 5.9.8": ["build-essential"], "psycopg2 2.9.9": ["libpq-dev"] };
        const build = () => stages(instructions).find((stage) => stage.name === CACHE_STAGE)!.instructions;

        for (const [pkg, needs] of Object.entries(NO_AARCH64_WHEEL)) {
            it(`has what ${pkg} needs to build from source on arm64: ${needs.join(", ")}`, () => {
                const apt = build().find((i) => i.keyword === "RUN" && /apt-get install/.test(i.args));
                assert.ok(apt);
                for (const need of needs) {
                    assert.match(apt.args, new RegExp(`\\s${need}\\s`), need);
                }
            });
        }

        it("points h5py's source build at Debian's serial HDF5, wherever gcc's triplet puts it", () => {
            const install = build().find((i) => i.keyword === "RUN" && /poetry install/.test(i.args));
            assert.ok(install);
            assert.match(install.args, /HDF5_DIR="\/usr\/lib\/\$\(gcc -dumpmachine\)\/hdf5\/serial" \/opt\/poetry\/bin\/poetry install/);
        });

        it("installs the HDF5 runtime library on arm64 only, for real in a shell", () => {
            const final = finalStage(instructions);
            assert.ok(final.some((i) => i.keyword === "ARG" && i.args.trim() === "TARGETARCH"));
            const apt = final.find((i) => i.keyword === "RUN" && /apt-get install/.test(i.args));
            assert.ok(apt);
            const list = /\$\(if \[ "\$TARGETARCH" = arm64 \]; then echo ([^;]+); fi\)/.exec(apt.args);
            assert.ok(list, apt.args);
            for (const [arch, expected] of [["arm64", "libhdf5-103-1"], ["amd64", ""]]) {
                const out = spawnSync("sh", ["-c", `echo "[${list[0]}]"`], { env: { TARGETARCH: arch }, encoding: "utf8" }).stdout.trim();
                assert.equal(out, `[${expected}]`, arch);
            }
        });
    });

    describe("layer order", () => {
        it("puts every instruction that does not depend on ENTRYPOINT before the first one that does", () => {
            const misplaced = independentAfterDependent(instructions, "ENTRYPOINT");
            assert.deepEqual(
                misplaced,
                [],
                `these instructions do not depend on ENTRYPOINT but come after it, so the four images ` +
                    `would not share them:\n${describeAll(misplaced)}`,
            );
        });

        it("varies only the last layer: ARG ENTRYPOINT, then the COPY of the role script, and nothing else", () => {
            const tail = instructions.slice(-2);
            assert.deepEqual(
                tail.map((i) => i.keyword),
                ["ARG", "COPY"],
                describeAll(tail),
            );
            assert.match(tail[1].args, /^\$\{ENTRYPOINT\} \/opt\/cgap\/entrypoint\.sh$/);
        });

        it("the order check catches an instruction placed after the role", () => {
            const bad = parseDockerfile(
                [
                    "FROM scratch",
                    "ARG ENTRYPOINT",
                    "COPY $ENTRYPOINT /entrypoint.sh",
                    "RUN apt-get update",
                    "COPY ${ENTRYPOINT:-entrypoint.sh} /again.sh",
                    "EXPOSE 8000",
                ].join("\n"),
            );
            assert.deepEqual(
                independentAfterDependent(bad, "ENTRYPOINT").map((i) => i.line),
                [4, 6],
            );
            const good = parseDockerfile("FROM scratch\nRUN true\nARG ENTRYPOINT\nCOPY ${ENTRYPOINT} /e.sh\n");
            assert.deepEqual(independentAfterDependent(good, "ENTRYPOINT"), []);
            // The ENTRYPOINT instruction itself does not use the build arg, nor does a longer name.
            const other = parseDockerfile('FROM scratch\nARG ENTRYPOINT\nENTRYPOINT ["/e.sh"]\nRUN echo $ENTRYPOINTS\n');
            assert.deepEqual(
                independentAfterDependent(other, "ENTRYPOINT").map((i) => i.line),
                [3, 4],
            );
        });

        it("reads continued lines and comments as Docker does", () => {
            const parsed = parseDockerfile("# c\nRUN a \\\n  # inside\n  b \\\n\n  c\nUSER x\n");
            assert.deepEqual(
                parsed.map((i) => [i.keyword, i.args, i.line]),
                [
                    ["RUN", "a b c", 2],
                    ["USER", "x", 7],
                ],
            );
        });
    });

    describe("what the registry build cache relies on", () => {
        const stageNamed = (name: string) => stages(instructions).find((st) => st.name === name)?.instructions ?? [];

        it(`has the stage the cache image is built from, "${CACHE_STAGE}", and the final stage copies out of it`, () => {
            const build = stageNamed(CACHE_STAGE);
            assert.ok(build.length > 1, `no stage named ${CACHE_STAGE}`);
            assert.ok(stages(instructions).at(-1)?.name !== CACHE_STAGE, "the cache stage must not be the final stage");
            const copies = finalStage(instructions).filter((i) => i.keyword === "COPY" && copyParts(i).flags.includes(`--from=${CACHE_STAGE}`));
            assert.ok(copies.length > 0, `the final stage copies nothing from ${CACHE_STAGE}`);
        });

        it(`reads nothing from the build context and nothing role-specific in the ${CACHE_STAGE} stage`, () => {
            const build = stageNamed(CACHE_STAGE);
            assert.deepStrictEqual(build.filter(readsContext), [], "a file from images/ would make every edit there rebuild the heavy stage");
            assert.deepStrictEqual(build.filter((i) => usesArg(i, "ENTRYPOINT")), []);
            assert.deepStrictEqual([...declaredArgs(build)].sort(), Object.keys(sharedBuildArgs("v15.6.0")).sort(), "the cache image is built with exactly these args");
        });

        it("puts no heavy layer (RUN, COPY --from) after a copy from the build context or a download, in any stage", () => {
            for (const stage of stages(instructions)) {
                const misplaced = heavyAfterVolatile(stage.instructions);
                assert.deepStrictEqual(misplaced, [], `stage ${stage.name ?? "(final)"}: these would be rebuilt on every edit or download:\n${describeAll(misplaced)}`);
            }
        });

        it("downloads only with ADD, whose cache key is the file's checksum, never in a RUN keyed on its command", () => {
            assert.deepStrictEqual(runDownloads(instructions), [], describeAll(runDownloads(instructions)));
            const ipRanges = instructions.filter(downloads);
            assert.deepStrictEqual(ipRanges.map((i) => copyParts(i).dest), ["/home/nginx/cgap-portal/aws-ip-ranges.json"]);
            assert.ok(copyParts(ipRanges[0]).flags.includes("--chown=nginx:nginx"), "ADD of a URL makes the file 0600: the app user must own it");
        });

        it("the checks catch a heavy stage that reads the context, a RUN after a context copy, and a RUN download", () => {
            const bad = parseDockerfile(
                [
                    "FROM scratch AS build",
                    "COPY requirements.txt /r.txt",
                    "RUN pip install -r /r.txt",
                    "RUN curl -fsSL -o x.json https://example.com/x.json",
                    "FROM scratch",
                    "COPY nginx.conf /etc/nginx.conf",
                    "COPY --from=build /venv /venv",
                    "ADD https://example.com/y.json /y.json",
                ].join("\n"),
            );
            const [build, final] = stages(bad);
            assert.deepStrictEqual(build.instructions.filter(readsContext).map((i) => i.line), [2]);
            assert.deepStrictEqual(heavyAfterVolatile(build.instructions).map((i) => i.line), [3, 4]);
            assert.deepStrictEqual(heavyAfterVolatile(final.instructions).map((i) => i.line), [7]);
            assert.deepStrictEqual(runDownloads(bad).map((i) => i.line), [4]);
            assert.deepStrictEqual(bad.filter(downloads).map((i) => i.line), [8]);
            assert.equal(readsContext(bad[7]), false);
        });
    });

    describe("the image", () => {
        it("pins every base image by digest", () => {
            const stages = new Set<string>();
            const froms = instructions.filter((i) => i.keyword === "FROM");
            assert.ok(froms.length > 0);
            for (const from of froms) {
                const [image, as, name] = from.args.split(/\s+/);
                if (!stages.has(image)) {
                    assert.match(image, /^[a-z0-9./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$/, `line ${from.line}: ${from.args}`);
                }
                if (as?.toUpperCase() === "AS") {
                    stages.add(name);
                }
            }
        });

        it("runs as the nginx user, exposes the container port and starts the role through tini", () => {
            const final = finalStage(instructions);
            const last = (keyword: string) => [...final].reverse().find((i) => i.keyword === keyword);
            assert.equal(last("USER")?.args, "nginx");
            assert.equal(last("EXPOSE")?.args, String(CONTAINER_PORT));
            const entrypoint = last("ENTRYPOINT");
            assert.ok(entrypoint, "no ENTRYPOINT in the final stage");
            const form = JSON.parse(entrypoint.args) as unknown;
            assert.ok(Array.isArray(form), "ENTRYPOINT must be in exec form (a JSON array)");
            assert.deepEqual(form, ["/usr/bin/tini", "-g", "--", "/bin/sh", "/opt/cgap/entrypoint.sh"]);
        });

        it("copies only files that exist in images/ and that .dockerignore lets through", () => {
            const copies = instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
            for (const copy of copies) {
                const { sources } = copyParts(copy);
                if (!readsContext(copy)) {
                    continue;
                }
                const files = sources.flatMap((source) =>
                    source.includes("ENTRYPOINT") ? ROLES.map((r) => ROLE_SPECS[r].entrypoint) : [source],
                );
                for (const file of files) {
                    assert.ok(fs.existsSync(path.join(IMAGES, file)), `line ${copy.line}: images/${file} does not exist`);
                    assert.equal(
                        dockerignoreExcludes(dockerignore, file),
                        false,
                        `line ${copy.line}: .dockerignore keeps ${file} out of the build context`,
                    );
                }
            }
        });

        it("sends nothing else: .dockerignore keeps other files out of the build context", () => {
            assert.equal(dockerignoreExcludes(dockerignore, ".shellcheckrc"), true);
            assert.equal(dockerignoreExcludes(dockerignore, "notes.md"), true);
            assert.equal(dockerignoreExcludes(dockerignore, "__pycache__/assume_identity.cpython-311.pyc"), true);
            assert.equal(dockerignoreExcludes(dockerignore, "ini/any.ini"), false);
        });

        it("proxies to the ports the app's workers listen on in every ini template", () => {
            const nginx = fs.readFileSync(path.join(IMAGES, "nginx.conf"), "utf8");
            assert.match(nginx, new RegExp(`^\\s*listen ${CONTAINER_PORT};`, "m"));
            for (const port of WSGI_PORTS) {
                assert.match(nginx, new RegExp(`^\\s*server 127\\.0\\.0\\.1:${port}[ ;]`, "m"));
            }
            const templates = fs.readdirSync(path.join(IMAGES, "ini")).filter((f) => f.endsWith(".ini"));
            assert.ok(templates.includes("any.ini"));
            for (const template of templates) {
                const text = fs.readFileSync(path.join(IMAGES, "ini", template), "utf8");
                const server = /^\[server:main\]\n([\s\S]*?)(?=^\[)/m.exec(text);
                assert.ok(server, `${template} has no [server:main]`);
                assert.match(server[1], /^host = 127\.0\.0\.1$/m, template);
                // Each worker is started with `pserve production.ini http_port=<port>`, as the app's supervisord.conf does.
                assert.match(server[1], /^port = %\(http_port\)s$/m, template);
                assert.match(server[1], /^threads = 16$/m, template);
            }
        });
    });
});
