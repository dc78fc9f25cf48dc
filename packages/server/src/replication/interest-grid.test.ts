import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Cell, InterestGrid } from './interest-grid.ts';

test('cellsNear over the dense window finds exactly the cells a brute-force scan finds', () => {
  let seed = 3;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const grid = new InterestGrid(16);
  for (let i = 1; i <= 1500; i++) grid.insert(i, (rand() - 0.5) * 1000, (rand() - 0.5) * 1000);
  const cells: Cell[] = [];
  const far: number[] = [];
  const near: number[] = [];
  for (let k = 0; k < 300; k++) {
    const x = (rand() - 0.5) * 1100;
    const z = (rand() - 0.5) * 1100;
    const radius = k % 2 ? 100 : 110;
    grid.cellsNear(x, z, radius, cells, far, near);
    const expected = [...grid.cells.values()].filter((c) => {
      const minX = c.cx * 16;
      const minZ = c.cz * 16;
      const nx = Math.max(minX - x, 0, x - minX - 16);
      const nz = Math.max(minZ - z, 0, z - minZ - 16);
      return nx * nx + nz * nz <= radius * radius;
    });
    const key = (c: Cell) => c.key;
    assert.deepEqual(cells.map(key).sort(), expected.map(key).sort(), `query ${k} at (${x}, ${z})`);
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i] as Cell;
      for (const e of c.entities) {
        const d2 = (e.x - x) ** 2 + (e.z - z) ** 2;
        assert.ok(d2 <= (far[i] as number) + 1e-9 && d2 >= (near[i] as number) - 1e-9);
      }
    }
  }
});

test('indexes of removed entities are reused only once released', () => {
  const grid = new InterestGrid(16);
  const a = grid.insert(1, 0, 0);
  const b = grid.insert(2, 1, 1);
  assert.deepEqual([a.index, b.index], [0, 1]);
  assert.equal(grid.remove(1), a);
  assert.equal(grid.byIndex[0], undefined);
  assert.equal(grid.insert(3, 2, 2).index, 2, 'not released yet: a fresh index');
  grid.releaseIndex(0);
  assert.equal(grid.insert(4, 3, 3).index, 0);
  assert.equal(grid.remove(99), undefined);
});
