import { dirname, relative, resolve, sep } from 'node:path';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** libs/<name> or apps/<name> holding `file`, or null for test/, bench/, scripts/ (not packages). */
function packageOf(file) {
  const [top, name] = relative(root, file).split(sep);
  return (top === 'libs' || top === 'apps') && name ? `${top}/${name}` : null;
}

/**
 * A package reaches another only through its public alias (@crowdlens/<lib>), never by a relative
 * path out of its own folder: such an import skips the other package's index, couples to its
 * internals and breaks when either moves. Tests, benches and scripts are not packages.
 */
const noCrossPackageRelativeImports = {
  meta: {
    type: 'problem',
    messages: {
      leaves: '"{{source}}" leaves {{from}} for {{to}}: import it through its @crowdlens/* alias instead',
    },
    schema: [],
  },
  create(context) {
    const from = packageOf(context.filename);
    if (!from) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to =
        packageOf(resolve(dirname(context.filename), source)) ??
        relative(root, resolve(dirname(context.filename), source));
      if (to !== from) context.report({ node: node.source, messageId: 'leaves', data: { source, from, to } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'apps/analytics/public/**', 'tools/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { crowdlens: { rules: { 'no-cross-package-relative-imports': noCrossPackageRelativeImports } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'crowdlens/no-cross-package-relative-imports': 'error',
    },
  },
  {
    // libs/runtime is loaded by worker threads and scripts with no Nest application: nothing of
    // NestJS or of the platform half (libs/common) may come in. libs/runtime/src/nest-free.spec.ts
    // also follows imports through other libraries.
    files: ['libs/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', '@crowdlens/common', '@crowdlens/common/*'],
              message: 'libs/runtime stays Nest-free (worker threads load it): keep Nest code in @crowdlens/common',
            },
          ],
        },
      ],
    },
  },
  {
    // Rules that read types: a promise nobody awaits or catches is found here, not in production.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
