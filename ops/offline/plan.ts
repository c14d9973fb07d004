// Turns one run of the program (ops/offline/program.ts) into what a person and the policy pack look at:
// the rollout plan per role, and the resources as the engine would describe them to the analyzer.
import { StackResource, UNKNOWN } from "./analyzer";
import { ProgramResult, RegisteredResource } from "./program";
import { capacityProvider, Role, ROLE_SPECS, ROLES, RoleSizing } from "../../components/roles";
import { Origins } from "../../components/estate";
import { describeOrigins } from "../../components/exports";
import type { PinSource } from "../../components/imageBundle";

/** One entry of a service's `capacityProviderStrategies`, as the program registers it. */
export interface StrategyItem {
    capacityProvider: string;
    base?: number;
    weight?: number;
}

const IMAGE = "docker:index/image:Image";
const SERVICE = "aws:ecs/service:Service";
const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
const SCALABLE_TARGET = "aws:appautoscaling/target:Target";
const IMAGE_BUNDLE = "cgap:images:ImageBundle";

export interface PlanRow {
    role: Role;
    tag: string;
    /** Whether this rollout builds and pushes the role's image. */
    changing: boolean;
    /** Where the image its task definition names comes from (ImageBundle's PinSource). */
    pin?: PinSource;
    /** The engine replaces the role's task definition, registering a new revision from the program's inputs. */
    replaced: boolean;
    /** ECS service name, or undefined for the one-shot deployment task. */
    service?: string;
    count?: number;
    /** The autoscaler's bounds; equal to count for a service of fixed size. */
    min?: number;
    max?: number;
    capacity: string;
    cpu: string;
    memory: string;
}

export interface AnalyzerView {
    /** Roles whose images a `--target` run leaves alone: the engine sends their old state. */
    untouched?: readonly Role[];
    /** Tag to the digest ECR holds for it, for images the engine sends old state of. */
    registry: Record<string, string>;
}

function roleOfImage(image: RegisteredResource): Role | undefined {
    const entrypoint = (image.plainInputs.build as { args?: Record<string, string> } | undefined)?.args?.ENTRYPOINT;
    return ROLES.find((r) => ROLE_SPECS[r].entrypoint === entrypoint);
}

function find(result: ProgramResult, type: string, role: Role): RegisteredResource | undefined {
    return result.resources.find((r) => r.type === type && r.name.endsWith(`-${role}`));
}

/**
 * One row per role, read off the resources the program registered; `sizing` supplies what no
 * resource says (the capacity the deployment task is run on).
 */
export function rolloutPlan(result: ProgramResult, sizing: Record<Role, RoleSizing>, untouched: readonly Role[] = []): PlanRow[] {
    const pins = result.resources.find((r) => r.type === IMAGE_BUNDLE)?.outputs.pinSources as Partial<Record<Role, PinSource>> | undefined;
    return ROLES.map((role) => {
        const image = result.resources.find((r) => r.type === IMAGE && roleOfImage(r) === role);
        const service = find(result, SERVICE, role)?.plainInputs;
        const registered = find(result, TASK_DEFINITION, role);
        const taskDefinition = registered?.plainInputs ?? {};
        const scaling = find(result, SCALABLE_TARGET, role)?.plainInputs;
        const count = service ? Number(service.desiredCount) : undefined;
        const strategy = service?.capacityProviderStrategies as StrategyItem[] | undefined;
        return {
            role,
            tag: ROLE_SPECS[role].tag,
            changing: image !== undefined && !untouched.includes(role),
            pin: pins?.[role],
            replaced: registered?.replaced ?? false,
            service: service ? String(service.name) : undefined,
            count,
            min: scaling ? Number(scaling.minCapacity) : count,
            max: scaling ? Number(scaling.maxCapacity) : count,
            capacity: strategy ? describeStrategy(strategy, count ?? 0) : capacityProvider(sizing[role].capacity[0].capacity),
            cpu: String(taskDefinition.cpu),
            memory: String(taskDefinition.memory),
        };
    });
}

/**
 * The resources as a preview (or update) sends them to the analyzer. A resource the run creates or
 * updates shows its inputs plus what the provider already knows; an image a `--target` run leaves
 * alone shows its old outputs, with the digest its tag was pushed as.
 */
export function analyzerResources(result: ProgramResult, view: AnalyzerView): StackResource[] {
    return result.resources.map((resource) => {
        const computed = Object.fromEntries(
            Object.entries(resource.outputs ?? {}).filter(([key]) => !(key in resource.plainInputs)),
        );
        // The provider's state carries the cloud id as the output "id" (what `pulumi stack export`
        // shows); until the provider creates the resource it is not known.
        const id = resource.custom ? { id: resource.id ?? UNKNOWN } : {};
        let props: Record<string, unknown> = { ...resource.inputs, ...computed, ...id };
        const role = resource.type === IMAGE ? roleOfImage(resource) : undefined;
        if (role && view.untouched?.includes(role)) {
            const repository = String(resource.plainInputs.imageName).replace(/:[^:/]+$/, "");
            props = { ...props, repoDigest: `${repository}@${view.registry[ROLE_SPECS[role].tag]}` };
        }
        return {
            type: resource.type,
            name: resource.name,
            urn: resource.urn,
            parent: resource.parent,
            dependencies: resource.dependencies,
            propertyDependencies: resource.propertyDependencies,
            inputs: resource.inputs,
            props,
            ...(resource.location ? { location: resource.location } : {}),
        };
    });
}

/**
 * A strategy in words, with how ECS splits `count` tasks by it: the base first, then the rest in
 * proportion to the weights. ECS rounds a split that does not divide evenly its own way; "~" marks
 * such a split.
 */
export function describeStrategy(strategy: StrategyItem[], count: number): string {
    if (strategy.length === 1 && !strategy[0].base) {
        return strategy[0].capacityProvider;
    }
    const parts = strategy.map((s) =>
        [s.capacityProvider, s.base ? `base ${s.base}` : "", s.weight ? `weight ${s.weight}` : ""].filter((x) => x).join(" "),
    );
    const split = splitTasks(strategy, count);
    const approximate = split.some((n) => !Number.isInteger(n));
    const tasks = strategy.map((s, i) => `${approximate ? "~" : ""}${Math.round(split[i])} ${s.capacityProvider}`);
    return `${parts.join(" + ")} (${tasks.join(", ")})`;
}

function splitTasks(strategy: StrategyItem[], count: number): number[] {
    const bases = strategy.map((s) => Math.min(s.base ?? 0, count));
    const rest = Math.max(count - bases.reduce((a, b) => a + b, 0), 0);
    const totalWeight = strategy.reduce((sum, s) => sum + (s.weight ?? 0), 0);
    return strategy.map((s, i) => bases[i] + (totalWeight > 0 ? (rest * (s.weight ?? 0)) / totalWeight : 0));
}

/** What happens to a role's image, and its task definition when the engine replaces it. */
function describeChange(row: PlanRow): string {
    const image = row.changing
        ? "yes: built and pushed"
        : row.pin === "built"
          ? "no: --target leaves it alone"
          : row.pin === "recorded"
            ? "no: keeps the image it runs"
            : "no: nothing runs yet, takes its tag's digest in ECR";
    return row.replaced ? `${image}; new revision (replaced)` : image;
}

/** The plan as a fixed-width table. */
export function formatPlan(rows: PlanRow[]): string {
    const header = ["role", "tag", "changing", "service", "min/count/max", "capacity", "cpu/memory"];
    const lines = rows.map((r) => [
        r.role,
        r.tag,
        describeChange(r),
        r.service ?? "(one-shot task)",
        r.count === undefined ? "-" : `${r.min}/${r.count}/${r.max}${r.max !== r.min ? " autoscaled" : ""}`,
        r.capacity,
        `${r.cpu}/${r.memory}`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    return [header, ...lines].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** One row per thing the stack uses and where it comes from: exports of an estate stack, stack config, or created here. */
export function formatSources(origins: Origins): string {
    const rows: [string, string][] = [
        ["network", describeOrigins(origins.network)],
        ["repository", describeOrigins(origins.repository)],
        ["queue", describeOrigins(origins.ingestionQueue)],
    ];
    const width = Math.max(...rows.map(([what]) => what.length));
    return rows.map(([what, from]) => `${what.padEnd(width)}  ${from}`).join("\n");
}
