// Just enough of the Dockerfile and .dockerignore formats for the images/ tests to read them.

export interface Instruction {
    /** Upper-case instruction name: FROM, RUN, ARG, ... */
    keyword: string;
    /** Everything after the keyword, continuation lines joined with a space. */
    args: string;
    /** 1-based line the instruction starts on. */
    line: number;
}

/**
 * Instructions in order. Comment lines are dropped (also inside a continued instruction, as
 * Docker does), a trailing backslash continues the instruction on the next line. Heredocs and
 * a non-default escape character are not supported: they are refused rather than misread.
 */
export function parseDockerfile(text: string): Instruction[] {
    const instructions: Instruction[] = [];
    let current: { parts: string[]; line: number } | undefined;
    text.split(/\r?\n/).forEach((raw, index) => {
        const trimmed = raw.trim();
        if (/^#\s*escape\s*=/i.test(trimmed) && instructions.length === 0 && !current) {
            throw new Error("Dockerfile escape directive is not supported by this reader");
        }
        if (trimmed.startsWith("#") || (trimmed === "" && !current)) {
            return;
        }
        if (trimmed === "") {
            return; // an empty line inside a continued instruction
        }
        const continued = /\\$/.test(trimmed);
        const content = continued ? trimmed.slice(0, -1).trim() : trimmed;
        if (!current) {
            current = { parts: [], line: index + 1 };
        }
        current.parts.push(content);
        if (!continued) {
            const joined = current.parts.filter(Boolean).join(" ");
            const match = /^(\S+)\s*([\s\S]*)$/.exec(joined);
            if (!match) {
                throw new Error(`unreadable instruction at line ${current.line}`);
            }
            if (/<<-?["']?[A-Za-z_]/.test(match[2]) && /^(RUN|COPY|ADD)$/i.test(match[1])) {
                throw new Error(`heredoc at line ${current.line} is not supported by this reader`);
            }
            instructions.push({ keyword: match[1].toUpperCase(), args: match[2], line: current.line });
            current = undefined;
        }
    });
    if (current) {
        throw new Error(`instruction at line ${current.line} ends in a line continuation`);
    }
    return instructions;
}

/** Names an ARG instruction declares (`ARG A`, `ARG A=default`, `ARG A B=1`). */
export function argNames(instruction: Instruction): string[] {
    if (instruction.keyword !== "ARG") {
        return [];
    }
    return instruction.args
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => word.split("=")[0]);
}

/** Every build arg the Dockerfile declares, in any stage or before the first FROM. */
export function declaredArgs(instructions: Instruction[]): Set<string> {
    return new Set(instructions.flatMap(argNames));
}

/** Whether an instruction declares the build arg `name` or expands it ($NAME, ${NAME}, ${NAME:-x}). */
export function usesArg(instruction: Instruction, name: string): boolean {
    const expansion = new RegExp(`\\$(\\{${name}(\\}|:)|${name}(?![A-Za-z0-9_]))`);
    return argNames(instruction).includes(name) || expansion.test(instruction.args);
}

/**
 * Instructions that do not depend on `name` but come after the first one that does. Each of
 * them would be rebuilt, and stored, once per value of the arg: in images/ that means four times.
 */
export function independentAfterDependent(instructions: Instruction[], name: string): Instruction[] {
    const first = instructions.findIndex((i) => usesArg(i, name));
    if (first < 0) {
        return [];
    }
    return instructions.slice(first + 1).filter((i) => !usesArg(i, name));
}

/** The instructions of the last build stage (from its FROM on). */
export function finalStage(instructions: Instruction[]): Instruction[] {
    const lastFrom = instructions.map((i) => i.keyword).lastIndexOf("FROM");
    return instructions.slice(lastFrom);
}

/** The build stages in order: each FROM and the instructions up to the next one, with its `AS` name. */
export function stages(instructions: Instruction[]): { name?: string; instructions: Instruction[] }[] {
    const out: { name?: string; instructions: Instruction[] }[] = [];
    for (const instruction of instructions) {
        if (instruction.keyword === "FROM") {
            const [, as, name] = instruction.args.split(/\s+/);
            out.push({ name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
        }
        out[out.length - 1]?.instructions.push(instruction);
    }
    return out;
}

/** Whether a COPY/ADD takes files from the build context (not from a stage or a URL). */
export function readsContext(instruction: Instruction): boolean {
    if (instruction.keyword !== "COPY" && instruction.keyword !== "ADD") {
        return false;
    }
    const { flags, sources } = copyParts(instruction);
    return !flags.some((f) => f.startsWith("--from=")) && !sources.some(isUrl);
}

/** Whether an ADD downloads a URL. */
export function downloads(instruction: Instruction): boolean {
    return instruction.keyword === "ADD" && copyParts(instruction).sources.some(isUrl);
}

function isUrl(source: string): boolean {
    return /^https?:\/\//.test(source);
}

/**
 * RUN steps and copies out of another stage: the layers that take long to build or are large.
 * Each is rebuilt whenever an instruction before it in its stage changes its cache key.
 */
export function isHeavy(instruction: Instruction): boolean {
    return instruction.keyword === "RUN" || (instruction.keyword === "COPY" && copyParts(instruction).flags.some((f) => f.startsWith("--from=")));
}

/**
 * Heavy instructions that come after one whose cache key changes more often than theirs would: a
 * copy from the build context (any edit to those files) or a download (whenever the file changes
 * upstream). Each of them would be rebuilt on such a change although its own inputs stayed.
 */
export function heavyAfterVolatile(stageInstructions: Instruction[]): Instruction[] {
    const first = stageInstructions.findIndex((i) => readsContext(i) || downloads(i));
    return first < 0 ? [] : stageInstructions.slice(first + 1).filter(isHeavy);
}

/** RUN steps that fetch a URL with curl or wget: their cache key is the command, not what they fetch. */
export function runDownloads(instructions: Instruction[]): Instruction[] {
    return instructions.filter((i) => i.keyword === "RUN" && /\b(curl|wget)\b[^&|;]*https?:\/\//.test(i.args));
}

/** Splits COPY/ADD arguments into flags, sources and destination (shell form only). */
export function copyParts(instruction: Instruction): { flags: string[]; sources: string[]; dest: string } {
    const words = instruction.args.split(/\s+/).filter(Boolean);
    const flags = words.filter((w) => w.startsWith("--"));
    const rest = words.filter((w) => !w.startsWith("--"));
    if (rest.length < 2 || rest[0].startsWith("[")) {
        throw new Error(`line ${instruction.line}: expected ${instruction.keyword} <src>... <dest>`);
    }
    return { flags, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}

function patternToRegExp(pattern: string): RegExp {
    let source = "";
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "*" && pattern[i + 1] === "*") {
            source += ".*";
            i++;
            if (pattern[i + 1] === "/") {
                i++;
                source += "/?";
            }
        } else if (c === "*") {
            source += "[^/]*";
        } else if (c === "?") {
            source += "[^/]";
        } else {
            source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
        }
    }
    return new RegExp(`^${source}$`);
}

/**
 * Whether `.dockerignore` (its text) keeps `file` (a path relative to the context) out of the
 * build context. Docker's rules as far as images/ needs them: patterns in order, the last one
 * that matches the path or one of its parent directories decides, `!` re-includes.
 */
export function dockerignoreExcludes(dockerignore: string, file: string): boolean {
    const patterns = dockerignore
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
    const segments = file.replace(/^\.\//, "").replace(/\/+$/, "").split("/");
    const candidates = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const raw of patterns) {
        const negated = raw.startsWith("!");
        const pattern = (negated ? raw.slice(1) : raw).trim().replace(/^\/+/, "").replace(/\/+$/, "");
        const regexp = patternToRegExp(pattern);
        if (candidates.some((c) => regexp.test(c))) {
            excluded = !negated;
        }
    }
    return excluded;
}
