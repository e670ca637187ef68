/** Migrate an access-policy registration to RBAC for Applications (migrate.ts planMigration gives the order). */
import { z } from 'zod';
import { runMigrate, validateMigrateInput, type MigrateInput, type MigrateResult, type StoredMigrateInput } from '../migrate';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<StoredMigrateInput> = z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional(), settleMinutes: z.number() });

export const migrateWorkflow: Workflow<StoredMigrateInput, MigrateResult, MigrateInput> = {
  kind: 'migrate-rbac',
  input,
  prepare: (i) => ({ input: validateMigrateInput(i) }),
  run: runMigrate,
};
