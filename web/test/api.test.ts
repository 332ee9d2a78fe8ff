import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../src/api";
import { MINER, miner } from "./fixtures";

// index.html starts the route's requests and parses their answers before the bundle
// runs; api.ts takes each of them once, then goes to the network.
describe("answers read early by index.html", () => {
  afterEach(() => {
    delete window.__lpPrefetch;
    vi.unstubAllGlobals();
  });

  it("are used once, without a second request", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify(miner), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    window.__lpPrefetch = { [`/v1/miners/${MINER}`]: Promise.resolve({ ok: true, status: 200, body: miner }) };
    expect(await api.miner(MINER)).toEqual(miner);
    expect(fetch).not.toHaveBeenCalled();
    await api.miner(MINER);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("keep the service's refusal sentence", async () => {
    const detail = `miner ${MINER} has not been seen by this pool`;
    window.__lpPrefetch = { [`/v1/miners/${MINER}`]: Promise.resolve({ ok: false, status: 404, body: { detail } }) };
    await expect(api.miner(MINER)).rejects.toEqual(new ApiError(404, detail));
  });

  it("say when the service could not be reached, or did not answer JSON", async () => {
    const lost = Promise.reject(new TypeError("Failed to fetch"));
    lost.catch(() => {});
    window.__lpPrefetch = { "/v1/config": lost, "/v1/pool": Promise.resolve({ ok: true, status: 200, body: null }) };
    await expect(api.config()).rejects.toMatchObject({ status: 0, message: expect.stringContaining("could not be reached") });
    await expect(api.pool()).rejects.toMatchObject({ message: "The service's answer was not JSON." });
  });
});
