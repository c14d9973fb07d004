"use strict";
// Reading resource properties the way the engine sends them to a policy pack.
//
// The SDK hands a policy `props` wrapped in a proxy whose property getter throws
// `UnknownValueError` when it meets a value that is not known yet (a preview). If that error
// escapes a policy, the SDK reports "can't run policy during preview" and downgrades the result to
// advisory, even for a mandatory policy. So every policy here first takes the raw, unproxied
// properties (`rawProps`) and then reads them with the helpers below, which treat an unknown value
// as data instead of an exception.
Object.defineProperty(exports, "__esModule", { value: true });
exports.UNKNOWN_SENTINELS = void 0;
exports.isUnknown = isUnknown;
exports.isMissing = isMissing;
exports.rawProps = rawProps;
exports.knownString = knownString;
exports.knownObject = knownObject;
exports.knownArray = knownArray;
exports.knownBoolean = knownBoolean;
exports.at = at;
exports.containsUnknown = containsUnknown;
exports.parseJsonDocument = parseJsonDocument;
exports.oneOrMany = oneOrMany;
exports.describeError = describeError;
/**
 * The sentinel strings the engine and the SDK use for values that are not known yet. The engine
 * itself sends the string one for every unknown; the others come from older SDKs.
 */
exports.UNKNOWN_SENTINELS = new Set([
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (what the engine sends)
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);
function isUnknown(value) {
    return typeof value === "string" && exports.UNKNOWN_SENTINELS.has(value);
}
/** Missing (absent or null) and unknown are different: missing is a known absence. */
function isMissing(value) {
    return value === undefined || value === null;
}
/**
 * The raw properties behind the SDK's unknown-checking proxy. The proxy defines only a `get` trap,
 * so own-key enumeration and property descriptors reach the target and return raw values,
 * sentinels included, without throwing. Works on plain objects too.
 */
function rawProps(props) {
    if (props === null || typeof props !== "object") {
        return {};
    }
    const raw = {};
    for (const key of Object.keys(props)) {
        raw[key] = Object.getOwnPropertyDescriptor(props, key)?.value;
    }
    return raw;
}
/** A known string, or undefined when the value is missing, unknown or not a string. */
function knownString(value) {
    return typeof value === "string" && !isUnknown(value) ? value : undefined;
}
/** A known object (not an array), or undefined. */
function knownObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
}
/** A known array, or undefined. */
function knownArray(value) {
    return Array.isArray(value) ? value : undefined;
}
/** true/false when known (booleans, or the strings "true"/"false" some providers send), else undefined. */
function knownBoolean(value) {
    if (typeof value === "boolean") {
        return value;
    }
    if (value === "true" || value === "false") {
        return value === "true";
    }
    return undefined;
}
/** Reads `path` from `value`; stops at the first missing or unknown step and says which. */
function at(value, ...path) {
    let current = value;
    for (const key of path) {
        if (isUnknown(current) || current === null || typeof current !== "object") {
            return isUnknown(current) ? current : undefined;
        }
        current = current[key];
    }
    return current;
}
/** True when the value or anything inside it is unknown. */
function containsUnknown(value) {
    if (isUnknown(value)) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsUnknown);
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}
/**
 * Parses a property that holds a JSON document (task definition container definitions, IAM and
 * lifecycle policies). Some providers send such a document already parsed; that is accepted too.
 */
function parseJsonDocument(value) {
    if (isUnknown(value)) {
        return { state: "unknown" };
    }
    if (isMissing(value)) {
        return { state: "missing" };
    }
    if (typeof value !== "string") {
        return containsUnknown(value) ? { state: "unknown" } : { state: "known", value };
    }
    // A JSON string built from outputs that were not known yet is unknown as a whole; a sentinel
    // can only appear inside the text when a program stringified an unknown itself.
    for (const sentinel of exports.UNKNOWN_SENTINELS) {
        if (value.includes(sentinel)) {
            return { state: "unknown" };
        }
    }
    try {
        return { state: "known", value: JSON.parse(value) };
    }
    catch (e) {
        return { state: "invalid", error: e instanceof Error ? e.message : String(e) };
    }
}
/** One element or many, as AWS policy documents allow (`"Action": "s3:GetObject"` or a list). */
function oneOrMany(value) {
    if (isMissing(value)) {
        return [];
    }
    return Array.isArray(value) ? value : [value];
}
/** The message of anything thrown. */
function describeError(e) {
    if (e instanceof Error) {
        return e.message || e.name;
    }
    return String(e);
}
