// `node --import ./test/runtime/load-log.mjs …`: appends the URL of every ES module the process loads to the file
// named by LOAD_LOG (one per line), so a test can tell which compiled chunks a start loaded.
import { register } from 'node:module';

register('./load-log-hooks.mjs', import.meta.url);
