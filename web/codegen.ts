import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents straight from the server's schema files: no introspection,
// so the build works against a production server that disables it.
const config: CodegenConfig = {
  schema: '../schema/*.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    'src/gql/': {
      preset: 'client',
      config: {
        scalars: { ID: 'string', Time: 'string', Decimal: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};
export default config;
