// First step of customers-two-steps.yaml: keeps active customers with an email, trims and
// lower-cases the email and title-cases the city; the next step (enrich.js) sees its output.
function process(context) {
  const row = context.input.current();
  if (row.active !== true || !row.email) return false;
  context.output.setField('email', row.email.trim().toLowerCase());
  if (row.city) {
    context.output.setField('city', row.city.trim().replace(/\s+/g, ' '));
  }
  return true;
}
