import { describe, expect, it } from "vitest";
import { ApiError } from "./api";

describe("ApiError", () => {
  it("uses the message of the API's error envelope", () => {
    const err = new ApiError(400, { error: "definition_invalid", message: "Steps form a cycle" });
    expect(err.message).toBe("Steps form a cycle");
    expect(err.status).toBe(400);
  });

  it("falls back to DRF's detail, then to the status", () => {
    expect(new ApiError(403, { detail: "No permission" }).message).toBe("No permission");
    expect(new ApiError(502, "<html>").message).toBe("Request failed with status 502");
  });
});
