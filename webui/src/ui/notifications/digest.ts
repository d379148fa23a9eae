/**
 * The e-mail digest setting of the account dialog: off (the default), daily or weekly. Saved as
 * soon as it changes; disabled, with the reason, on a server that cannot send mail.
 */
import { ApiError, type Api } from "../../api";
import { h, newId, onAsync, toast } from "../dom";
import { getSettings, setDigest, type DigestFrequency } from "./api";

const CHOICES: [DigestFrequency, string][] = [
  ["off", "Off"],
  ["daily", "Daily"],
  ["weekly", "Weekly"],
];

export function digestSetting(api: Api): HTMLElement[] {
  const id = newId("digest");
  const select = h(
    "select",
    { id, "aria-describedby": `${id}-hint`, disabled: true },
    ...CHOICES.map(([value, label]) => h("option", { value }, label)),
  );
  const hint = h(
    "p",
    { class: "hint", id: `${id}-hint` },
    "One e-mail with your unread notifications (mentions, replies, shares) not sent before.",
  );
  void getSettings(api).then(
    (settings) => {
      select.value = settings.digest;
      select.disabled = !settings.email;
      if (!settings.email) hint.textContent = "This server is not set up to send e-mail.";
    },
    () => {
      hint.textContent = "The setting cannot be loaded right now.";
    },
  );
  onAsync(select, "change", async () => {
    select.disabled = true;
    try {
      const saved = await setDigest(api, select.value as DigestFrequency);
      select.value = saved.digest;
      toast(saved.digest === "off" ? "E-mail digests are off." : `You will get a ${saved.digest} digest.`);
    } catch (exc) {
      toast(exc instanceof ApiError ? exc.message : "The server cannot be reached.", "error");
    } finally {
      select.disabled = false;
    }
  });
  return [
    h("h3", {}, "Notifications"),
    h("div", { class: "field" }, h("label", { for: id }, "E-mail digest"), select),
    hint,
  ];
}
