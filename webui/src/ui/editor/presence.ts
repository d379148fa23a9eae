/**
 * The avatars of the other people here now (one per person, however many tabs they have open):
 * each a button whose tooltip is the name and which scrolls the editor to that person's caret.
 * Beyond `MAX_SHOWN` the rest go in a "+N" menu; on a phone the avatars collapse to one count
 * button whose menu lists everyone (CSS picks which of the two shows).
 *
 * Colours come from the protocol (deterministic per user, from a small palette), so two people
 * can share one: the second gets a ring in the text colour so their avatars still differ.
 */
import { Users } from "lucide";
import { type Peer } from "../../protocol/messages";
import { avatar } from "../avatar";
import { h } from "../dom";
import { menuButton, type MenuItem } from "../menu";

const MAX_SHOWN = 4;

interface Person {
  userId: string;
  name: string;
  color: string;
}

export class PresenceList {
  readonly element = h("div", { class: "presence", role: "group", "aria-label": "People here now" });
  private people: Person[] = [];

  constructor(
    private readonly meId: string,
    /** Scroll to this person's caret. */
    private readonly jump: (userId: string) => void,
  ) {}

  render(peers: readonly Peer[]): void {
    const byUser = new Map<string, Person>();
    for (const p of peers) {
      if (p.user_id !== this.meId && !byUser.has(p.user_id))
        byUser.set(p.user_id, { userId: p.user_id, name: p.name, color: p.color });
    }
    this.people = [...byUser.values()];
    if (!this.people.length) {
      this.element.replaceChildren();
      return;
    }
    const used = new Set<string>();
    const shown = this.people.slice(0, this.people.length > MAX_SHOWN ? MAX_SHOWN - 1 : MAX_SHOWN);
    const rest = this.people.slice(shown.length);
    const list = h(
      "ul",
      { class: "avatars" },
      ...shown.map((p) => {
        const twin = used.has(p.color);
        used.add(p.color);
        const button = h(
          "button",
          // Named by its hidden text, not aria-label: the initials are a picture of the person,
          // not a label the name would have to contain.
          { type: "button", class: "avatar-button", title: p.name },
          avatar(p.name, p.color, { "aria-hidden": "true", ...(twin ? { "data-twin": "" } : {}) }),
          h("span", { class: "visually-hidden" }, `${p.name}: go to their cursor`),
        );
        button.addEventListener("click", () => this.jump(p.userId));
        return h("li", {}, button);
      }),
    );
    if (rest.length) {
      list.append(
        h(
          "li",
          {},
          menuButton({
            label: `${rest.length} more: ${rest.map((p) => p.name).join(", ")}`,
            text: h("span", {}, `+${rest.length}`, h("span", { class: "visually-hidden" }, " more people")),
            class: "avatar-more",
            items: () => this.items(rest),
          }).element,
        ),
      );
    }
    const count = menuButton({
      label: `${this.people.length} ${this.people.length === 1 ? "other person" : "other people"} here: ${this.people.map((p) => p.name).join(", ")}`,
      icon: Users,
      text: h(
        "span",
        { class: "presence-count-n" },
        h("span", { class: "visually-hidden" }, "People here: "),
        String(this.people.length),
      ),
      class: "presence-count",
      items: () => this.items(this.people),
    });
    this.element.replaceChildren(list, count.element);
  }

  private items(people: readonly Person[]): MenuItem[] {
    return people.map((p) => ({ label: `Go to ${p.name}`, run: () => this.jump(p.userId) }));
  }
}
