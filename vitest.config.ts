import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites share one broker and one registry; running files one at a time keeps
    // their topics, consumer groups and timings independent on a two-core machine.
    fileParallelism: false,
    reporters: ['default'],
    globalSetup: ['test/support/temporary-folder-setup.ts'],
  },
});
