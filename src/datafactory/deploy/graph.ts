/**
 * Dependency levels: objects in level n depend only on objects in levels < n
 * (or on objects outside the set, which already exist). Creates and updates run
 * level by level, in parallel within a level; deletes run the levels in reverse.
 */
import { DeployInputError } from './errors';

export interface GraphNode {
  key: string;
  /** Keys this node needs to exist first; keys outside the set are ignored. */
  dependsOn: readonly string[];
}

/** Kahn's algorithm by levels; a cycle fails with the objects on it. */
export function dependencyLevels<T extends GraphNode>(nodes: readonly T[], rank?: (n: T) => number): T[][] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = [...new Set(n.dependsOn)].filter((d) => d !== n.key && byKey.has(d));
    remaining.set(n.key, deps.length);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(n.key);
      dependents.set(d, list);
    }
  }
  const levels: T[][] = [];
  let current = nodes.filter((n) => remaining.get(n.key) === 0);
  let placed = 0;
  while (current.length > 0) {
    const level = [...current];
    if (rank) level.sort((a, b) => rank(a) - rank(b));
    levels.push(level);
    placed += level.length;
    const next: T[] = [];
    for (const n of level) {
      for (const d of dependents.get(n.key) ?? []) {
        const left = (remaining.get(d) ?? 0) - 1;
        remaining.set(d, left);
        if (left === 0) next.push(byKey.get(d) as T);
      }
    }
    current = next;
  }
  if (placed < nodes.length) {
    const cycle = findCycle(
      nodes.filter((n) => (remaining.get(n.key) ?? 0) > 0),
      byKey,
    );
    throw new DeployInputError(
      'templateFile',
      `The template's objects depend on each other in a cycle (${cycle.join(' → ')}), so they cannot be deployed in order. Break the cycle (e.g. an ExecutePipeline loop).`,
    );
  }
  return levels;
}

function findCycle<T extends GraphNode>(stuck: T[], byKey: Map<string, T>): string[] {
  const stuckKeys = new Set(stuck.map((n) => n.key));
  const start = stuck[0]?.key;
  if (!start) return [];
  const path: string[] = [];
  const seen = new Map<string, number>();
  let k: string | undefined = start;
  while (k && !seen.has(k)) {
    seen.set(k, path.length);
    path.push(k);
    const node = byKey.get(k);
    k = node?.dependsOn.find((d) => stuckKeys.has(d) && d !== node.key);
  }
  if (!k) return path;
  return [...path.slice(seen.get(k)), k];
}

/**
 * Deletion order: an object is deleted only after every object in the set that
 * depends on it. Returns levels to run first to last.
 */
export function deletionLevels<T extends GraphNode>(nodes: readonly T[]): T[][] {
  // Reverse the edges: a node waits for every node that depends on it.
  const keys = new Set(nodes.map((n) => n.key));
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    for (const d of n.dependsOn) {
      if (d === n.key || !keys.has(d)) continue;
      dependents.set(d, [...(dependents.get(d) ?? []), n.key]);
    }
  }
  const reversed = nodes.map((n) => ({ key: n.key, dependsOn: dependents.get(n.key) ?? [], node: n }));
  return dependencyLevels(reversed).map((level) => level.map((r) => r.node));
}
