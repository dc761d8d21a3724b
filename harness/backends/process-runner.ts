import { ManagedProcess } from "../util/managed-process";
import { waitReady, type ComponentLaunch, type ComponentRunner, type RunningComponent } from "./component";

/** Runs a tool as a native process (own process group, on the lifeline) from the given binary. */
export function processRunner(binary: string): ComponentRunner {
  return {
    async run<P extends string>(launch: ComponentLaunch<P>): Promise<RunningComponent> {
      const process = await ManagedProcess.spawn({
        name: launch.spec.name,
        command: binary,
        args: launch.args,
        logFile: launch.logFile,
        cwd: launch.dir,
      });
      try {
        await waitReady(launch, () => (process.running ? undefined : process.exitDescription));
        return process;
      } catch (error) {
        await process.stop();
        throw error;
      }
    },
  };
}
