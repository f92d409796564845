// Node-only helpers: `dynamodb-session/node`. Everything else is in the main entry, which runs
// anywhere.
export { loadNodeConfig } from './config.ts'
