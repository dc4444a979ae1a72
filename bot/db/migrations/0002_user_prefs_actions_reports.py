from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DailyReportSent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('telegram_id', fields.BigIntField()),
                ('day', fields.DateField()),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'daily_reports_sent', 'app': 'models', 'unique_together': (('telegram_id', 'day'),), 'pk_attr': 'id', 'table_description': 'One row per user and local day: the report is sent once even across restarts and replicas.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PendingAction',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=24)),
                ('telegram_id', fields.BigIntField(db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('payload', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('mode', fields.CharField(max_length=8)),
                ('state', fields.CharField(default='pending', max_length=12)),
                ('result', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pending_actions', 'app': 'models', 'pk_attr': 'id', 'table_description': "An action that touches the exchange, previewed and waiting for its owner's confirmation."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='default_stop_loss_percent',
            field=fields.DecimalField(null=True, max_digits=38, decimal_places=16),
        ),
        ops.AddField(
            model_name='User',
            name='default_take_profit_percent',
            field=fields.DecimalField(null=True, max_digits=38, decimal_places=16),
        ),
        ops.AddField(
            model_name='User',
            name='notification_levels',
            field=fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
