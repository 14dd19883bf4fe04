import { describe, expect, it } from "vitest";
import { makeDirectory } from "../src/directory.ts";
import { authorName, charactersLeft, commandProblem, filesLine, reactionLabel, typingLine } from "../src/table/chat-messages.ts";

describe("what the table chat says", () => {
  it("a refused or failed command says why in words, by code, and falls back to the server's message", () => {
    expect(commandProblem({ command: "sendMessage", code: "RATE_LIMITED", message: "You are sending too fast; retry in 3 s." })).toBe(
      "Your message was not sent: you are sending faster than this table's chat allows.",
    );
    expect(commandProblem({ command: "addReaction", code: "NOT_ROOM_MEMBER", message: null })).toMatch(/^Your reaction was not added: only players seated/);
    expect(commandProblem({ command: "sendMessage", code: "VALIDATION_FAILED", message: "message must be at most 1975 characters" })).toBe(
      "Your message was not sent: message must be at most 1975 characters.",
    );
    expect(commandProblem({ command: "sendMessage", code: "SOMETHING_NEW", message: "The hub said this." })).toBe(
      "Your message was not sent: The hub said this.",
    );
    expect(commandProblem({ command: "sendMessage", code: "NO_ANSWER", message: null })).toMatch(/Retrying is safe/);
  });

  it("names: the site player for site messages, else the Discord display name, else the username", () => {
    const names = makeDirectory(new Map([["2", "alice"]]), new Map());
    const author = { id: "9", username: "dora99", displayName: "Dora", avatar: null, bot: false };
    expect(authorName({ sentBy: "2", author: { ...author, username: "spell-coven", bot: true } }, names)).toBe("alice");
    expect(authorName({ sentBy: null, author }, names)).toBe("Dora");
    expect(authorName({ sentBy: null, author: { ...author, displayName: null } }, names)).toBe("dora99");
    expect(authorName({ sentBy: "3", author: null }, names)).toBe("Player …3");
  });

  it("typing lines, file counts, the counter near the limit, reaction labels", () => {
    expect(typingLine([])).toBe("");
    expect(typingLine(["Bob"])).toBe("Bob is typing…");
    expect(typingLine(["Bob", "Dora"])).toBe("Bob and Dora are typing…");
    expect(typingLine(["A", "B", "C", "D", "E"])).toBe("A, B and 3 others are typing…");
    expect(filesLine(1)).toBe("1 file");
    expect(filesLine(2)).toBe("2 files");
    expect(charactersLeft("hi")).toEqual({ left: 1973, show: false });
    expect(charactersLeft("x".repeat(1800))).toEqual({ left: 175, show: true });
    expect(charactersLeft("👍".repeat(1976)).left).toBe(-1); // code points, as Discord counts
    expect(reactionLabel("👍", 1, true)).toBe("👍: 1 reaction, including yours");
    expect(reactionLabel("🔥", 3, false)).toBe("🔥: 3 reactions. Add yours");
  });
});
