import { defineConfig } from 'vitest/config';

// Two projects: `unit` is fast and runs anywhere; `lab` boots qemu guests with real
// LVM and DRBD and needs root.
export default defineConfig({
  test: {
    // Lab files run one at a time: each boots its own lab of qemu guests.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', 'test/lab/**'],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
