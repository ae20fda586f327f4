import { describe, expect, it } from "vitest";
import { referencedSteps, renameRefs, stepRefsInText } from "./references";

describe("reference extraction", () => {
  it("finds step results in text, with paths, and ignores other kinds of reference", () => {
    const found = stepRefsInText(
      "S=${sentiment.result}, E=${ entities.result.items[0] }, ${workflow.input.text} ${loop.current_item} ${secrets.KEY}",
    );
    expect([...found].sort()).toEqual(["entities", "sentiment"]);
  });

  it("treats $${ as a literal, not a reference", () => {
    expect([...stepRefsInText("cost: $${price.result}")]).toEqual([]);
  });

  it("scans the same fields as the server, nested inline steps included, and not its own id", () => {
    const refs = referencedSteps({
      id: "check",
      type: "conditional",
      name: "${ignored.result}",
      condition: "${sentiment.result.label} == 'POSITIVE'",
      if_true: { type: "inference", model: "m", input: "${summary.result}" },
      inputs: { a: "${check.result}", b: ["${extract.result}"] },
    });
    expect(refs.sort()).toEqual(["extract", "sentiment", "summary"]);
  });

  it("renames references to a step", () => {
    expect(renameRefs({ input: "x ${a.result.b} ${ab.result} $${a.result}" }, "a", "z")).toEqual({
      input: "x ${z.result.b} ${ab.result} $${a.result}",
    });
  });
});
