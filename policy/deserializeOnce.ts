// One deserialization of each resource per request, shared by every policy of the pack.
//
// @pulumi/policy (1.21) turns a request's resources into the values a policy reads once per
// policy: for each stack policy, AnalyzeStack deserializes the protobuf Struct of every resource's
// properties into plain values and wraps them in the SDK's unknown-checking proxy; Analyze does
// the same for each resource policy. On a 10,000-resource stack with ten stack policies that is
// 100,000 deserializations per AnalyzeStack: most of its time, and most of the garbage the
// collector then scavenges, while the policies' own work is a few percent. It also makes every
// new stack policy cost a full pass over the stack.
//
// What the SDK builds is the same for every policy of one request: it deserializes the request's
// own Struct objects (one per resource, which the generated protobuf code caches), and no policy of
// this pack writes to the properties it is given (each reads a copy, rawProps; a test runs every
// policy on frozen properties to hold that). So the pack gives the SDK memoised versions of the two
// functions, keyed by their argument: the first policy of a request pays, the others reuse, and
// the memo goes with the request's objects. A new request brings new objects, so nothing carries
// over from one request to the next.
//
// The SDK calls both through its modules' exports objects, which is what lets the pack replace
// them. Should a later SDK move the modules or bind the functions otherwise, this changes nothing
// and the pack is only slower again; it never changes what a policy sees.

/** `f` remembering its result per argument object, for as long as that object lives. */
export function memoisedPerObject<A extends object, R>(f: (argument: A) => R): (argument: A) => R {
    const memo = new WeakMap<A, R>();
    return (argument) => {
        let result = memo.get(argument);
        if (result === undefined) {
            result = f(argument);
            memo.set(argument, result);
        }
        return result;
    };
}

const MEMOISED = Symbol.for("cgap-rollout.memoised");

type SdkFunction = ((...args: unknown[]) => unknown) & { [MEMOISED]?: true };
type SdkModule = Record<string, unknown>;

function sdkModule(name: string): SdkModule | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's internal modules have no typings to import
        return require(`@pulumi/policy/${name}`) as SdkModule;
    } catch {
        return undefined;
    }
}

/**
 * Replaces `module[name]` with `wrap(original)`, once; false when there is no such function.
 * `wrap` gets the original and returns the function to call instead.
 */
function replace(module: SdkModule | undefined, name: string, wrap: (original: SdkFunction) => SdkFunction): boolean {
    const original = module?.[name] as SdkFunction | undefined;
    if (typeof original !== "function") {
        return false;
    }
    if (!original[MEMOISED]) {
        const replacement = wrap(original);
        replacement[MEMOISED] = true;
        module![name] = replacement;
    }
    return true;
}

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

/**
 * Makes the SDK deserialize (and proxy) each resource's properties once per request instead of
 * once per policy. Returns which of the two it could memoise; calling it again changes nothing.
 */
export function deserializeOncePerRequest(): { deserializeProperties: boolean; unknownCheckingProxy: boolean } {
    return {
        // Only the plain values the validations read (proxySecrets false); a remediation's
        // secret-preserving copy is its own to change.
        deserializeProperties: replace(sdkModule("deserialize"), "deserializeProperties", (original) => {
            const plain = memoisedPerObject((struct: object) => original(struct, false));
            return (struct, proxySecrets) => (proxySecrets === false && isObject(struct) ? plain(struct) : original(struct, proxySecrets));
        }),
        unknownCheckingProxy: replace(sdkModule("proxy"), "unknownCheckingProxy", (original) => {
            const proxied = memoisedPerObject((target: object) => original(target));
            return (target) => (isObject(target) ? proxied(target) : original(target));
        }),
    };
}
