// @ts-check
import pulumi from "@pulumi/eslint-plugin";
import n from "eslint-plugin-n";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "policy/node_modules/", "policy/bin/", "**/*.js", "**/*.mjs"] },
    ...tseslint.configs.recommended,
    {
        plugins: { n },
        rules: {
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
            ],
            // Every package the code imports is declared in the package.json nearest to it (the
            // policy pack's own for policy/), never borrowed from another package's dependencies.
            "n/no-extraneous-import": "error",
        },
    },
    {
        // An Output in a template literal becomes "Calling [toString] on an [Output<T>] is not
        // supported" in the cloud. These rules need type information, so they run on the files that
        // build resources, where Outputs live.
        files: ["index.ts", "components/**/*.ts", "platform/**/*.ts"],
        ignores: ["platform/node_modules/"],
        plugins: { "@pulumi": pulumi },
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // Tests read loosely typed resource inputs and provider payloads.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
