// The SARIF 2.1.0 schema as OASIS published it (rtm.5, the version json.schemastore.org serves),
// shipped by @microsoft/jest-sarif; draft-04, so ajv 6 with its draft-04 meta-schema.

/** The schema's complaints about a log, [] when it validates. */
export function validateSarif(log: unknown): string[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require("ajv");
    const ajv = new Ajv({ schemaId: "id", allErrors: true, format: "full", logger: false });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ajv.addMetaSchema(require("ajv/lib/refs/json-schema-draft-04.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const valid = ajv.validate(require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), log);
    return valid ? [] : (ajv.errors as Array<{ dataPath: string; message: string }>).map((e) => `${e.dataPath} ${e.message}`);
}
