/**
 * Tests that need a real component from outside npm (PyTorch, Chromium, redis-server,
 * a Vulkan driver) skip with a printed reason when it is missing, so `npm test` passes
 * on a fresh machine. In CI (CI=true) .ci/run installs every such component, so a
 * missing one is a failure there, not a silent skip.
 */
export function skipWithoutComponent(component: string, available: boolean, reason: string): boolean {
  if (available) return false;
  if (process.env.CI === 'true') {
    throw new Error(`${component} is missing in CI (CI=true), where .ci/run must install it: ${reason}`);
  }
  console.log(`skipping tests that need ${component}: ${reason}`);
  return true;
}
