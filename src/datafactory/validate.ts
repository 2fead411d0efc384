/**
 * Offline validation of a Data Factory git folder. Every problem is collected
 * (not just the first) with the file, line and column it belongs to, so the
 * pipeline can annotate them all at once.
 */
import { locateKey, locatePath, type JsonPath } from './json-position';
import {
  KIND_INFO,
  objectKey,
  type AdfObject,
  type FactoryModel,
  type LoadProblem,
  type ObjectKind,
  type SourceFile,
} from './model';
import { BUILT_IN_INTEGRATION_RUNTIMES, collectReferences, type ObjectReference } from './references';

export type Problem = LoadProblem;

export interface ValidationResult {
  errors: Problem[];
  warnings: Problem[];
  /** The factory name in use (input, else factory/*.json). */
  factoryName?: string;
  /** References of every object, resolved against the folder (reused by the export). */
  references: Map<AdfObject, ResolvedReference[]>;
}

export interface ResolvedReference extends ObjectReference {
  target?: AdfObject;
}

export interface ValidateOptions {
  /** Overrides the name in factory/*.json (the factoryName input). */
  factoryName?: string;
}

const FORBIDDEN_CHARS = /[.+?/<>*%&:\\]/;
const NO_DASH_KINDS = new Set<ObjectKind>(['linkedService', 'dataflow', 'dataset']);
const MAX_NAME_LENGTH = 260;

export interface NameRuleViolation {
  /**
   * error: the service rejects the name. warning: ADF Studio refuses it but the
   * service accepts it (Synapse's "<workspace>-WorkspaceDefaultStorage" linked
   * services have dashes, and published factories hold such names).
   */
  severity: 'error' | 'warning';
  reason: string;
}

/** How `name` breaks ADF's naming rules for `kind`, or undefined when it is fine. */
export function nameRuleViolation(kind: ObjectKind, name: string): NameRuleViolation | undefined {
  const error = (reason: string): NameRuleViolation => ({ severity: 'error', reason });
  const warning = (reason: string): NameRuleViolation => ({ severity: 'warning', reason });
  if (name.length === 0) return error('the name is empty');
  if (kind === 'integrationRuntime') {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/.test(name)) {
      return error(
        'integration runtime names may contain only letters, numbers and single dashes, and must start and end with a letter or number',
      );
    }
    return undefined;
  }
  if (name.length > MAX_NAME_LENGTH) return error(`the name is longer than ${MAX_NAME_LENGTH} characters`);
  const bad = FORBIDDEN_CHARS.exec(name);
  if (bad) return error(`the character '${bad[0]}' is not allowed (not allowed: . + ? / < > * % & : \\)`);
  if (!/^[\p{L}\p{N}_]/u.test(name))
    return warning('ADF Studio wants names to start with a letter, a number or an underscore');
  if (NO_DASH_KINDS.has(kind) && name.includes('-')) {
    return warning(`ADF Studio does not allow dashes in ${KIND_INFO[kind].label} names`);
  }
  return undefined;
}

/** Why a factory name is invalid (3-63 letters, numbers and single dashes), or undefined. */
export function factoryNameViolation(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'a factory name must be 3 to 63 characters long';
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/.test(name)) {
    return 'a factory name may contain only letters, numbers and single dashes, and must start and end with a letter or number';
  }
  return undefined;
}

function at(
  src: SourceFile,
  path: JsonPath,
  key = false,
): Pick<Problem, 'file' | 'relPath' | 'line' | 'column'> {
  const pos = (key ? locateKey(src.text, path) : locatePath(src.text, path)) ?? { line: 1, column: 1 };
  return { file: src.file, relPath: src.relPath, line: pos.line, column: pos.column };
}

function describe(o: AdfObject): string {
  return `${KIND_INFO[o.kind].label} '${o.name}'`;
}

export function validateFactory(model: FactoryModel, options: ValidateOptions = {}): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const push = (p: Problem): void => {
    (p.severity === 'error' ? errors : warnings).push(p);
  };
  for (const p of model.problems) push(p);

  // The factory itself.
  let factoryName = options.factoryName;
  if (model.factoryFiles.length > 1) {
    push({
      severity: 'warning',
      message: `factory/ holds ${model.factoryFiles.length} files; the name and global parameters come from ${model.factoryFiles[0].relPath}.`,
      ...at(model.factoryFiles[1], []),
    });
  }
  const ff = model.factory;
  if (ff) {
    if (ff.name === undefined) {
      push({ severity: 'error', message: `${ff.relPath}: the factory file has no "name".`, ...at(ff, []) });
    } else {
      const base = ff.relPath.replace(/^factory\//, '').replace(/\.json$/i, '');
      if (base !== ff.name) {
        push({
          severity: 'error',
          message: `${ff.relPath}: the factory is named '${ff.name}' but the file is '${base}.json'; rename one so they match.`,
          ...at(ff, ['name']),
        });
      }
      factoryName ??= ff.name;
    }
  }
  if (factoryName === undefined) {
    if (!ff) {
      push({
        severity: 'error',
        message:
          "No factory name: the folder has no factory/<name>.json. Set the 'factoryName' input or check that 'factoryFolder' is the factory's git root folder.",
      });
    }
  } else {
    const why = factoryNameViolation(factoryName);
    if (why) {
      push({
        severity: 'error',
        message:
          options.factoryName === undefined
            ? `Factory name '${factoryName}' is not valid: ${why}.`
            : `Input 'factoryName': factory name '${factoryName}' is not valid: ${why}.`,
        ...(options.factoryName === undefined && ff ? at(ff, ['name']) : {}),
      });
    }
  }

  // Each object: name, file name, naming rules, shape.
  const byKey = new Map<string, AdfObject>();
  for (const o of model.objects) {
    const label = KIND_INFO[o.kind].label;
    const name = o.json.name;
    if (typeof name !== 'string') {
      push({
        severity: 'error',
        message: `${o.relPath}: the ${label} has no "name" (expected "${o.fileName}").`,
        ...at(o, []),
      });
    } else {
      if (name !== o.fileName) {
        push({
          severity: 'error',
          message: `${o.relPath}: the ${label} is named '${name}' but its file is '${o.fileName}.json'; the name must match the file name.`,
          ...at(o, ['name']),
        });
      }
      const why = nameRuleViolation(o.kind, name);
      if (why) {
        push({
          severity: why.severity,
          message:
            why.severity === 'error'
              ? `${o.relPath}: ${label} name '${name}' is not valid: ${why.reason}.`
              : `${o.relPath}: ${label} name '${name}' breaks ADF's naming rules: ${why.reason}.`,
          ...at(o, ['name']),
        });
      }
    }
    const props = o.json.properties;
    const needsProps = o.kind !== 'managedVirtualNetwork';
    if (props !== undefined && (typeof props !== 'object' || props === null || Array.isArray(props))) {
      push({
        severity: 'error',
        message: `${o.relPath}: "properties" must be a JSON object.`,
        ...at(o, ['properties']),
      });
    } else if (props === undefined && needsProps) {
      push({ severity: 'error', message: `${o.relPath}: the ${label} has no "properties".`, ...at(o, []) });
    }

    const key = objectKey(o.kind, o.name, o.parent);
    const other = byKey.get(key);
    if (other) {
      push({
        severity: 'error',
        message: `${o.relPath}: duplicate ${label} name '${o.name}' (also defined in ${other.relPath}); names are case-insensitive and must be unique.`,
        ...at(o, typeof name === 'string' ? ['name'] : []),
      });
    } else {
      byKey.set(key, o);
    }
  }

  // References.
  const references = new Map<AdfObject, ResolvedReference[]>();
  for (const o of model.objects) {
    const resolved: ResolvedReference[] = [];
    for (const r of collectReferences(o)) {
      const parent = r.kind === 'managedPrivateEndpoint' ? o.parent : undefined;
      const target = byKey.get(objectKey(r.kind, r.name, parent));
      resolved.push({ ...r, target });
      if (target) continue;
      if (r.kind === 'integrationRuntime' && BUILT_IN_INTEGRATION_RUNTIMES.has(r.name.toLowerCase()))
        continue;
      const path = r.path;
      push({
        severity: 'error',
        message: `${o.relPath}: ${describe(o)} references ${KIND_INFO[r.kind].label} '${r.name}', which is not in the factory folder (expected ${KIND_INFO[r.kind].folder}/${r.name}.json).`,
        ...(o.kind === 'managedPrivateEndpoint' && path[0] === 'name' ? at(o, ['name']) : at(o, path)),
      });
    }
    references.set(o, resolved);
  }

  for (const p of findExecutePipelineCycles(model.objects, references)) push(p);

  return { errors, warnings, factoryName, references };
}

/** ExecutePipeline cycles (a pipeline that ends up running itself), one problem per cycle. */
function findExecutePipelineCycles(
  objects: AdfObject[],
  references: Map<AdfObject, ResolvedReference[]>,
): Problem[] {
  const pipelines = objects.filter((o) => o.kind === 'pipeline');
  const edges = new Map<AdfObject, ResolvedReference[]>();
  for (const p of pipelines) {
    edges.set(
      p,
      (references.get(p) ?? []).filter((r) => r.kind === 'pipeline' && r.target),
    );
  }
  // Tarjan's strongly connected components, iteratively (factories can be deep).
  let index = 0;
  const idx = new Map<AdfObject, number>();
  const low = new Map<AdfObject, number>();
  const onStack = new Set<AdfObject>();
  const stack: AdfObject[] = [];
  const sccs: AdfObject[][] = [];
  for (const start of pipelines) {
    if (idx.has(start)) continue;
    const work: Array<{ node: AdfObject; next: number }> = [{ node: start, next: 0 }];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const out = edges.get(frame.node) ?? [];
      if (frame.next < out.length) {
        const w = out[frame.next++].target as AdfObject;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, idx.get(w) as number));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent) as number, low.get(frame.node) as number));
      }
      if (low.get(frame.node) === idx.get(frame.node)) {
        const comp: AdfObject[] = [];
        let w: AdfObject;
        do {
          w = stack.pop() as AdfObject;
          onStack.delete(w);
          comp.push(w);
        } while (w !== frame.node);
        sccs.push(comp);
      }
    }
  }

  const problems: Problem[] = [];
  for (const comp of sccs) {
    const members = new Set(comp);
    const selfLoop = comp.length === 1 && (edges.get(comp[0]) ?? []).some((r) => r.target === comp[0]);
    if (comp.length === 1 && !selfLoop) continue;
    // Start from the first member in folder order; the shortest way back to it is the cycle shown.
    const first = comp.reduce((a, b) => (objects.indexOf(a) <= objects.indexOf(b) ? a : b));
    const cameFrom = new Map<AdfObject, { from: AdfObject; ref: ResolvedReference }>();
    const queue: AdfObject[] = [first];
    let closing: { from: AdfObject; ref: ResolvedReference } | undefined;
    for (let qi = 0; qi < queue.length && !closing; qi++) {
      const cur = queue[qi];
      for (const ref of edges.get(cur) ?? []) {
        const next = ref.target as AdfObject;
        if (!members.has(next)) continue;
        if (next === first) {
          closing = { from: cur, ref };
          break;
        }
        if (!cameFrom.has(next)) {
          cameFrom.set(next, { from: cur, ref });
          queue.push(next);
        }
      }
    }
    const cycle: AdfObject[] = [first];
    let firstRef = closing?.ref;
    for (let cur = closing?.from; cur && cur !== first; cur = cameFrom.get(cur)?.from) {
      cycle.splice(1, 0, cur);
      firstRef = cameFrom.get(cur)?.ref ?? firstRef;
    }
    cycle.push(first);
    problems.push({
      severity: 'error',
      message: `${first.relPath}: ExecutePipeline cycle: ${cycle.map((p) => p.name).join(' → ')}; a pipeline must not run itself, directly or through other pipelines.`,
      ...at(first, firstRef ? firstRef.path : ['name']),
    });
  }
  return problems;
}
