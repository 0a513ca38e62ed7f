/** The fields of a step the DAG needs. */
export interface DagStep {
  readonly id: string;
  readonly dependsOn: readonly string[];
  readonly status: string;
  readonly tool: string;
}

/** A step placed in the drawing: its layer (column) and row. */
export interface DagNode<S extends DagStep> {
  readonly step: S;
  readonly layer: number;
  readonly row: number;
}

/** A dependency drawn as an arrow from the step it waits for. */
export interface DagEdge {
  readonly from: string;
  readonly to: string;
}

/**
 * Layers steps by `dependsOn`: a step with no dependency is in layer 0, any other one layer after
 * its latest dependency, so every arrow points right. Rows keep the plan's order within a layer.
 * A dependency on an unknown step is not drawn (the server refuses such plans; the page must not
 * break on one), and a cycle (refused too) is cut where it closes.
 */
export function layoutDag<S extends DagStep>(steps: readonly S[]): { nodes: DagNode<S>[]; edges: DagEdge[]; layers: number } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const layerOf = new Map<string, number>();
  const visiting = new Set<string>();
  const layer = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(layer));
    visiting.delete(id);
    layerOf.set(id, value);
    return value;
  };
  const rows = new Map<number, number>();
  const nodes = steps.map((step) => {
    const l = layer(step.id);
    const row = rows.get(l) ?? 0;
    rows.set(l, row + 1);
    return { step, layer: l, row };
  });
  const edges = steps.flatMap((s) => s.dependsOn.filter((d) => byId.has(d) && d !== s.id).map((d) => ({ from: d, to: s.id })));
  return { nodes, edges, layers: nodes.length === 0 ? 0 : Math.max(...nodes.map((n) => n.layer)) + 1 };
}
