// Customer enrichment, as in the original FlowEngine example: derives full_name,
// age_category, email_domain, value_category and priority_score, and copies high-value
// customers to the `review` route.
function ageCategory(age) {
  if (age === null) return 'Unknown';
  if (age < 25) return 'Young';
  if (age < 45) return 'Adult';
  if (age < 65) return 'Middle-aged';
  return 'Senior';
}

function valueCategory(amount) {
  if (amount >= 10000) return 'High';
  if (amount >= 1000) return 'Medium';
  return 'Low';
}

function process(context) {
  const row = context.input.current();
  if (!context.validate.required(['id', 'email'])) return false;

  const amount = row.amount === null ? 0 : row.amount;
  context.output.setField('full_name', `${row.first_name || ''} ${row.last_name || ''}`.trim());
  context.output.setField('age_category', ageCategory(row.age));
  context.output.setField('email_domain', row.email.includes('@')
      ? row.email.split('@')[1].toLowerCase() : '');
  context.output.setField('value_category', valueCategory(amount));

  let score = 0;
  if (amount >= 10000) score += 50;
  else if (amount >= 1000) score += 25;
  if (row.active) score += 20;
  if (row.age !== null && row.age >= 65) score += 10;
  context.output.setField('priority_score', score);

  if (amount >= 10000) context.route.sendCopy('review');
  return true;
}
