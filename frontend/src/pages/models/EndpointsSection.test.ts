import { describe, expect, it } from "vitest";
import { type Draft, endpointBody } from "./EndpointsSection";

const draft: Draft = {
  name: " lab/llama ",
  base_url: "http://gpu-box:8000/v1 ",
  remote_model: "",
  api_key: "",
  remove_key: false,
  input_price_per_1k: "",
  output_price_per_1k: "1.5",
  enabled: true,
  team: "7",
};

describe("endpointBody", () => {
  it("keeps the stored key when none is typed", () => {
    const body = endpointBody(draft);
    expect(body).not.toHaveProperty("api_key");
    expect(body).toMatchObject({
      name: "lab/llama",
      base_url: "http://gpu-box:8000/v1",
      input_price_per_1k: "0",
      output_price_per_1k: "1.5",
      team: 7,
    });
  });

  it("sends a typed key, and an empty one to remove it", () => {
    expect(endpointBody({ ...draft, api_key: " sk-1 " }).api_key).toBe("sk-1");
    expect(endpointBody({ ...draft, api_key: "sk-1", remove_key: true }).api_key).toBe("");
  });

  it("sends null for a shared endpoint", () => {
    expect(endpointBody({ ...draft, team: "" }).team).toBeNull();
  });
});
