/**
 * damselfly entry point: parses flags and starts the server. Nothing else lives here.
 */
import { Config, FlagError, helpText } from "./src/config/config.ts";
import { handleShutdownSignals, startApp } from "./src/app.ts";
import { VERSION } from "./src/version.ts";

const config = new Config();
try {
  const parsed = config.parseArgs(Deno.args, Deno.env.toObject());
  if (parsed.help) {
    await Deno.stdout.write(new TextEncoder().encode(helpText(VERSION)));
    Deno.exit(0);
  }
  if (parsed.version) {
    console.log(`damselfly ${VERSION}`);
    Deno.exit(0);
  }
  handleShutdownSignals(startApp(config));
} catch (e) {
  if (e instanceof FlagError) {
    console.error(e.message);
    Deno.exit(1);
  }
  console.error(`ERROR: ${(e as Error).message}`);
  Deno.exit(1);
}
