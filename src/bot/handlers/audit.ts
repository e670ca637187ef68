// The bot's audit helpers live one layer down, in src/runtime, so that the CLI writes the same entries.
export * from '../../runtime/audit';
