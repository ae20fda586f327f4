import { describe, expect, it } from "vitest";
import { roundedPath } from "./RoutedEdge";

describe("routed edge path", () => {
  it("draws a straight route as one line", () => {
    expect(
      roundedPath([
        { x: 0, y: 0 },
        { x: 90, y: 0 },
      ]),
    ).toBe("M 0 0 L 90 0");
  });

  it("rounds each bend with a curve that stays on the route's segments", () => {
    const d = roundedPath([
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 50 },
    ]);
    expect(d).toBe("M 0 0 L 92 0 Q 100 0 100 8 L 100 50");
  });

  it("rounds less where a segment is too short for the radius", () => {
    const d = roundedPath([
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 6 },
    ]);
    expect(d).toBe("M 0 0 L 7 0 Q 10 0 10 3 L 10 6");
  });
});
