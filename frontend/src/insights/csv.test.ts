import { describe, expect, it } from "vitest";
import { csvCell, csvFilename, toCsv } from "./csv";

describe("csvCell", () => {
  it("writes plain text and numbers as they are", () => {
    expect(csvCell("wf_abc")).toBe("wf_abc");
    expect(csvCell(12.5)).toBe("12.5");
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(0)).toBe("0");
  });

  it("writes null, undefined and non-finite numbers as empty cells", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell(Number.NaN)).toBe("");
  });

  it("quotes commas, doubles quotes, keeps line breaks inside quotes", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("line 1\nline 2")).toBe('"line 1\nline 2"');
    expect(csvCell("cr\r\nlf")).toBe('"cr\r\nlf"');
    expect(csvCell(" padded ")).toBe('" padded "');
  });

  it("defuses text a spreadsheet would run as a formula", () => {
    expect(csvCell("=SUM(A1:A3)")).toBe("'=SUM(A1:A3)");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell("-1+1,")).toBe(`"'-1+1,"`);
  });

  it("writes objects as JSON, quoted", () => {
    expect(csvCell({ a: 1, b: "x" })).toBe('"{""a"":1,""b"":""x""}"');
  });
});

describe("toCsv", () => {
  it("writes the header row then one CRLF-terminated line per row, in column order", () => {
    const csv = toCsv({
      columns: [
        { key: "step_id", label: "step_id" },
        { key: "avg", label: "avg, seconds" },
      ],
      rows: [
        { avg: 1.5, step_id: "fetch" },
        { step_id: 'say "x"', avg: null },
      ],
    });
    expect(csv).toBe('step_id,"avg, seconds"\r\nfetch,1.5\r\n"say ""x""",\r\n');
  });

  it("writes only the header for no rows", () => {
    expect(toCsv({ columns: [{ key: "a", label: "a" }], rows: [] })).toBe("a\r\n");
  });
});

describe("csvFilename", () => {
  it("keeps letters, digits, dots, dashes and underscores", () => {
    expect(csvFilename("wf_1", "slowest steps", "last_7_days")).toBe(
      "wf_1-slowest-steps-last_7_days.csv",
    );
    expect(csvFilename("a/b", "", "c")).toBe("a-b-c.csv");
    expect(csvFilename("")).toBe("data.csv");
  });
});
