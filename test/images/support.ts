// Shared by the images/ tests: the real scripts run in a scratch directory with stand-ins for the
// app's commands first on PATH. Every wait is bounded, and every process a test starts is ended
// (by its own process group id) when the test is done.

import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "../tempDirs";
import { ENV_NAME, FILLED_SECRET_2024, IDENTITY } from "./estate";

export const IMAGES = path.resolve(__dirname, "..", "..", "images");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 25 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = check();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await sleep(25);
    }
}

/** Absolute path of a program the tests need, or an error saying which Debian package provides it. */
export function requireProgram(name: string, debianPackage: string, candidates: string[] = []): string {
    for (const candidate of candidates) {
        if (fs.existsSync(candidate)) {
            return candidate;
        }
    }
    const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { encoding: "utf8" });
    const resolved = found.stdout.trim();
    if (found.status === 0 && resolved.startsWith("/")) {
        return resolved;
    }
    throw new Error(
        `${name} is not installed (looked on PATH${candidates.length ? ` and at ${candidates.join(", ")}` : ""}); ` +
            `the images tests need Debian's ${debianPackage} package: apt-get install -y ${debianPackage}`,
    );
}

/** Whether a process is still running (a zombie, finished but not yet reaped, counts as ended). */
export function isRunning(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z" && state !== "X";
    } catch {
        return false;
    }
}

export interface Exit {
    code: number | null;
    signal: NodeJS.Signals | null;
}

/** A process started by a test, in a process group of its own so that cleanup reaches its children too. */
export class Running {
    stdout = "";
    stderr = "";
    exit: Exit | undefined;
    readonly exited: Promise<Exit>;

    constructor(readonly child: ChildProcess) {
        child.stdout?.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
        child.stderr?.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
        this.exited = new Promise((resolve, reject) => {
            child.on("error", reject);
            child.on("close", (code, signal) => {
                this.exit = { code, signal };
                resolve(this.exit);
            });
        });
    }

    get pid(): number {
        return this.child.pid as number;
    }

    get output(): string {
        return `--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
    }

    /** Waits at most `timeoutMs` for the process to end. */
    async waitExit(timeoutMs: number): Promise<Exit> {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
                () => reject(new Error(`process ${this.pid} still running after ${timeoutMs} ms\n${this.output}`)),
                timeoutMs,
            );
        });
        try {
            return await Promise.race([this.exited, timeout]);
        } finally {
            clearTimeout(timer);
        }
    }

    /** Ends the whole process group (the script and whatever it started). */
    killGroup(): void {
        try {
            process.kill(-this.pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

const started: Running[] = [];

/** Starts a program in its own process group; `killStarted` ends it when the test is over. */
export function start(
    command: string,
    args: string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number },
): Running {
    const child = spawn(command, args, {
        env: options.env,
        cwd: options.cwd,
        uid: options.uid,
        gid: options.gid,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    const running = new Running(child);
    started.push(running);
    return running;
}

/** The shell the images run the role scripts with. */
export const SH = "/bin/sh";

/** An app command line as the call log shows it, from the table in components/appContract.ts. */
export const line = ({ command, args }: { command: string; args: readonly string[] }, ...more: string[]) => [command, ...args, ...more].join(" ");

/** Reads a pid file once it has been written. */
export function pidIn(file: string): number | undefined {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    return text ? Number(text) : undefined;
}

/**
 * A fresh Sandbox for each test of the calling describe (python3 required, as the stand-ins are
 * Python), every process the test started ended and the sandbox removed after it. Returns the
 * current test's sandbox.
 */
export function sandboxPerTest(): () => Sandbox {
    let box: Sandbox | undefined;
    before(() => {
        requireProgram("python3", "python3");
    });
    beforeEach(() => {
        box = new Sandbox();
    });
    afterEach(async () => {
        await killStarted();
        box?.remove();
        box = undefined;
    });
    return () => {
        if (box === undefined) {
            throw new Error("no sandbox outside a test");
        }
        return box;
    };
}

/** Ends every process group a test started that is still there. For afterEach/after hooks. */
export async function killStarted(): Promise<void> {
    const all = started.splice(0);
    for (const running of all) {
        running.killGroup();
    }
    await Promise.all(all.map((r) => r.waitExit(5000).catch(() => undefined)));
}

/** Runs a program to its end, at most `timeoutMs`. */
export async function run(
    command: string,
    args: string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string },
    timeoutMs = 10000,
): Promise<Running> {
    const running = start(command, args, options);
    await running.waitExit(timeoutMs);
    return running;
}

let interpreter: string | undefined;

/** The python3 interpreter's own path (what `python3` on PATH resolves to, shims followed). */
export function python3(): string {
    if (!interpreter) {
        const found = spawnSync(requireProgram("python3", "python3"), ["-c", "import sys; print(sys.executable)"], {
            encoding: "utf8",
            timeout: 20000,
        });
        interpreter = found.stdout.trim();
        if (found.status !== 0 || !interpreter.startsWith("/")) {
            throw new Error(`python3 did not report its path: ${found.stderr}`);
        }
    }
    return interpreter;
}

/**
 * The identity secret the role scripts read by default: the estate's, as 4dn-cloud-infra's
 * datastore stack writes it and an operator fills it in (test/images/estate.ts has its source).
 * Placeholders, empty bucket keys and all.
 */
export const SECRET: Readonly<Record<string, string>> = FILLED_SECRET_2024;

/**
 * A scratch directory for one test: `bin/` (stand-ins, first on PATH), `app/` (APP_HOME, where
 * production.ini is written), `calls` (one line per stand-in call: its name and arguments) and
 * `secret` (what the stand-in `aws` prints as the secret's SecretString).
 */
export class Sandbox {
    readonly dir: string;
    readonly bin: string;
    readonly app: string;
    readonly calls: string;
    readonly secretFile: string;

    constructor() {
        this.dir = tempDir("images");
        this.bin = path.join(this.dir, "bin");
        this.app = path.join(this.dir, "app");
        this.calls = path.join(this.dir, "calls");
        this.secretFile = path.join(this.dir, "secret");
        fs.mkdirSync(this.bin);
        fs.mkdirSync(this.app);
        fs.writeFileSync(this.calls, "");
        this.setSecret(JSON.stringify(SECRET));
        // The installed app, as far as assume_identity reads it: the head of cgap-portal v15.6.0's
        // pyproject.toml, and the dcicsnovault and dcicutils its poetry.lock pins (on PYTHONPATH).
        fs.writeFileSync(
            path.join(this.app, "pyproject.toml"),
            '[tool.poetry]\n# Note: Various modules refer to this system as "encoded", not "cgap-portal".\nname = "encoded"\nversion = "15.6.0"\n\n[tool.poetry.dependencies]\npython = ">=3.8.1,<3.13"\n',
        );
        for (const [name, version] of [["dcicsnovault", "11.19.0"], ["dcicutils", "8.16.1"]]) {
            const info = path.join(this.dir, "py", `${name}-${version}.dist-info`);
            fs.mkdirSync(info, { recursive: true });
            fs.writeFileSync(path.join(info, "METADATA"), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
        }
        // The scripts' python3: the interpreter itself, not a version-manager shim in front of it.
        fs.symlinkSync(python3(), path.join(this.bin, "python3"));
        // The Secrets Manager read: logs its arguments, prints the secret.
        this.standIn("aws", 'cat "$SECRET_FILE"');
    }

    setSecret(text: string): void {
        fs.writeFileSync(this.secretFile, text);
    }

    /** A stand-in command on PATH: it logs `name args...` to the calls file, then runs `body`. */
    standIn(name: string, body = ""): void {
        const script = `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> "$CALLS"\n${body}\n`;
        fs.writeFileSync(path.join(this.bin, name), script, { mode: 0o755 });
    }

    /** Stand-in calls so far, one string each: `name arg1 arg2 ...`. */
    callLog(): string[] {
        return fs.readFileSync(this.calls, "utf8").split("\n").filter(Boolean);
    }

    /** Names of the commands called so far, in order. */
    called(): string[] {
        return this.callLog().map((line) => line.split(" ")[0]);
    }

    file(name: string): string {
        return path.join(this.dir, name);
    }

    /**
     * The environment a script runs with: nothing from the outer environment but PATH (behind the
     * stand-ins), HOME and the locale, plus the container's variables (the task definition sets
     * IDENTITY, CGAP_ENVIRONMENT, CGAP_ENV_NAME and CGAP_GLOBAL_ENV_BUCKET; the image sets
     * APP_VERSION) and `extra`. A variable set to
     * undefined in `extra` is left out.
     */
    env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
        const env: NodeJS.ProcessEnv = {
            PATH: `${this.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
            HOME: process.env.HOME ?? this.dir,
            LANG: "C.UTF-8",
            PYTHONPATH: path.join(this.dir, "py"),
            CALLS: this.calls,
            SECRET_FILE: this.secretFile,
            APP_HOME: this.app,
            APP_VERSION: "v15.6.0",
            IDENTITY,
            CGAP_ENVIRONMENT: "development",
            CGAP_ENV_NAME: ENV_NAME,
            CGAP_GLOBAL_ENV_BUCKET: FILLED_SECRET_2024.GLOBAL_ENV_BUCKET,
        };
        for (const [key, value] of Object.entries(extra)) {
            if (value === undefined) {
                delete env[key];
            } else {
                env[key] = value;
            }
        }
        return env;
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** The role script of images/ with this name, checked to exist. */
export function script(name: string): string {
    const file = path.join(IMAGES, name);
    if (!fs.existsSync(file)) {
        throw new Error(`images/${name} does not exist`);
    }
    return file;
}
