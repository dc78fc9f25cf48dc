import type { Entity } from './playground.ts';
import type { EntityView } from './playground-type.ts';

/** What hooks see of an entity: a copy, so they change it only through the API. */
export function view(e: Entity): EntityView {
  return {
    id: e.id,
    kind: e.kind,
    owner: e.owner,
    position: { ...e.position },
    rotation: { ...e.rotation },
    props: structuredClone(e.props),
  };
}
