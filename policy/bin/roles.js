"use strict";
// The four roles of the CGAP portal image, as the policy pack knows them. The pack is published
// on its own, so it keeps its own copy of the program's role table (components/roles.ts); a test
// checks that the two agree.
Object.defineProperty(exports, "__esModule", { value: true });
exports.ROLE_BUILD_ARG = exports.ROLE_IMAGES = exports.ROLES = void 0;
exports.roleForTag = roleForTag;
exports.roleForEntrypoint = roleForEntrypoint;
exports.tagOf = tagOf;
exports.listTags = listTags;
exports.ROLES = ["wsgi", "indexer", "ingester", "deployment"];
exports.ROLE_IMAGES = {
    wsgi: { tag: "latest", entrypoint: "entrypoint.sh" },
    indexer: { tag: "latest-indexer", entrypoint: "entrypoint_indexer.sh" },
    ingester: { tag: "latest-ingester", entrypoint: "entrypoint_ingester.sh" },
    deployment: { tag: "latest-deployment", entrypoint: "entrypoint_deployment.sh" },
};
/** The build arg that differs between the four images, and only it. */
exports.ROLE_BUILD_ARG = "ENTRYPOINT";
function roleForTag(tag) {
    return exports.ROLES.find((role) => exports.ROLE_IMAGES[role].tag === tag);
}
function roleForEntrypoint(entrypoint) {
    return exports.ROLES.find((role) => exports.ROLE_IMAGES[role].entrypoint === entrypoint);
}
function tagOf(role) {
    return exports.ROLE_IMAGES[role].tag;
}
/** "latest-indexer and latest-deployment", for messages. */
function listTags(roles) {
    const tags = roles.map(tagOf);
    if (tags.length <= 1) {
        return tags.join("");
    }
    return `${tags.slice(0, -1).join(", ")} and ${tags[tags.length - 1]}`;
}
