from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_order_group_index')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='OcoGroupRecord',
            options={'table': 'oco_groups', 'app': 'models', 'unique_together': (('mode', 'account', 'entry_exchange_order_id'),), 'indexes': [Index(fields=['mode', 'account', 'entry_order_id']), Index(fields=['stop_loss_client_oid']), Index(fields=['take_profit_client_oid'])], 'pk_attr': 'id', 'table_description': 'A stop-loss + take-profit pair protecting one filled buy, or one tranche of it.'},
        ),
        ops.AddField(
            model_name='OcoGroupRecord',
            name='entry_order_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OcoGroupRecord',
            name='entry_quantity',
            field=fields.DecimalField(default=0, db_default=0, max_digits=38, decimal_places=16),
        ),
        ops.AddField(
            model_name='OcoGroupRecord',
            name='tranche',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddIndex(
            model_name='OcoGroupRecord',
            index=Index(fields=['mode', 'account', 'entry_order_id']),
        ),
        ops.AddIndex(
            model_name='OcoGroupRecord',
            index=Index(fields=['stop_loss_client_oid']),
        ),
        ops.AddIndex(
            model_name='OcoGroupRecord',
            index=Index(fields=['take_profit_client_oid']),
        ),
        ops.AddField(
            model_name='OrderRecord',
            name='protection_due',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='OrderRecord',
            index=Index(fields=['mode', 'account', 'protection_due']),
        ),
        # Existing groups are each the one tranche of their buy, standing for what they protected; a
        # watched buy left without a group (a crash just before the upgrade) is due, as the
        # protection would have found it before.
        ops.RunSQL(
            "UPDATE oco_groups SET entry_quantity = quantity, entry_order_id = entry_exchange_order_id",
            reverse_sql="SELECT 1",
        ),
        ops.RunSQL(
            "UPDATE orders SET protection_due = TRUE WHERE watched = TRUE AND side = 'BUY' "
            "AND status IN ('FILLED', 'CANCELED', 'EXPIRED', 'REJECTED') AND filled_quantity > 0 "
            "AND role IN ('entry', 'manual', 'unknown') AND NOT EXISTS (SELECT 1 FROM oco_groups g "
            "WHERE g.mode = orders.mode AND g.account = orders.account "
            "AND g.entry_exchange_order_id = orders.exchange_order_id)",
            reverse_sql="SELECT 1",
        ),
    ]
