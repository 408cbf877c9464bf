/** The one sending most hand-built messages of the tests describe (Alfa → Beta, 2 May 2025). */
export const SAMPLE_DATE = new Date("2025-05-02T08:00:00Z");

/** Its transaction data (the builders' `tx`), with another subject when given. */
export function sampleTx(subject = "Prova") {
  return {
    sender: "mario@pec.alfa.test",
    recipients: [{ address: "anna@pec.beta.test", tipo: "certificato" as const, field: "to" as const }],
    subject,
    identificativo: "opec1.20250502100000.1.1.1@pec.alfa.test",
    msgid: "<m1@client>",
  };
}
