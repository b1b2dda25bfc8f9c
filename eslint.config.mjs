import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: [".next/**", "node_modules/**", "db/migrations/**", ".tmp/**", "data/**", "next-env.d.ts", "test-results/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // The policy engine is pure: no I/O, no clock, no database.
    files: ["lib/policy/**/*.ts"],
    ignores: ["lib/policy/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["node:*", "better-sqlite3", "*/db/*", "../services/*", "../proxy/*"] }],
      "no-restricted-properties": ["error", { object: "Date", property: "now", message: "time arrives as an argument" }],
    },
  },
  {
    // Issue 16: the data-access layer is asynchronous. A query or verb whose promise nobody
    // awaits runs out of order, outside its transaction, or fails silently.
    files: ["db/**/*.ts", "lib/**/*.ts", "app/**/*.{ts,tsx}", "server.ts", "bench/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
    },
  },
  {
    // Only the composition root and lib/env read the environment.
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}", "lib/services/**/*.ts", "lib/proxy/**/*.ts", "lib/policy/**/*.ts"],
    rules: { "no-restricted-properties": ["error", { object: "process", property: "env", message: "read configuration through lib/env" }] },
  },
);
