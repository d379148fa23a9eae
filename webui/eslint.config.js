// ESLint for the web UI: the recommended rules plus typescript-eslint's type-aware set (the
// TypeScript program is already built for `tsc`, so the type information costs little). Prettier
// owns the layout, so eslint-config-prettier switches off every rule it would fight with.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["node_modules/**", "dist/**", "public/**", "test/fixtures/**"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` marks a parameter a callback signature requires but the body does not use.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // `void promise` is the house way to start work whose result nobody awaits.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      // `let [count, pos] = read(...)` where only `pos` moves on is the decoders' idiom.
      "prefer-const": ["error", { destructuring: "all" }],
    },
  },
  { files: ["**/*.js"], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
);
