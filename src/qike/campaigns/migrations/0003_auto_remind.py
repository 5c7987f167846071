# Automatic reminders: the campaign's option and schedule, and one Reminder row per reminder
# (automatic or by whom) instead of the message's list of ISO times.

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models

import qike.campaigns.models


def reminders_to_rows(apps, schema_editor):
    """Each ISO time of CampaignMessage.reminders becomes a manual Reminder (who is not known)."""
    message_model = apps.get_model("campaigns", "CampaignMessage")
    reminder_model = apps.get_model("campaigns", "Reminder")
    rows = [
        reminder_model(
            corp_id=message.corp_id,
            campaign_id=message.campaign_id,
            message_id=message.pk,
            at=dt.datetime.fromisoformat(at),
        )
        for message in message_model.objects.exclude(reminders=[]).iterator()
        for at in message.reminders or []
    ]
    reminder_model.objects.bulk_create(rows, batch_size=2000)


def rows_to_reminders(apps, schema_editor):
    message_model = apps.get_model("campaigns", "CampaignMessage")
    reminder_model = apps.get_model("campaigns", "Reminder")
    times: dict[int, list[str]] = {}
    for message_id, at in reminder_model.objects.values_list("message_id", "at"):
        times.setdefault(message_id, []).append(at.isoformat())
    for message_id, found in times.items():
        message_model.objects.filter(pk=message_id).update(reminders=found)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_message_unknown_progress"),
        ("core", "0001_initial"),
    ]

    operations = [
        # Campaigns composed before the option existed are not reminded automatically.
        migrations.AddField(
            model_name="campaign",
            name="auto_remind",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="auto_remind",
            field=models.BooleanField(
                default=True, verbose_name="remind staff who have not sent it"
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="auto_reminds_done",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaign",
            name="remind_after",
            field=models.JSONField(
                blank=True,
                default=qike.campaigns.models.default_remind_after,
                verbose_name="remind after (hours)",
            ),
        ),
        migrations.CreateModel(
            name="Reminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField()),
                ("auto", models.BooleanField(default=False)),
                ("step", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("by", models.CharField(blank=True, max_length=150)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "corp",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.corp",
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="campaigns.campaignmessage",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "id"],
                "indexes": [
                    models.Index(fields=["message", "at"], name="campaigns_reminder_msg_idx")
                ],
            },
        ),
        migrations.RunPython(reminders_to_rows, rows_to_reminders),
        migrations.RemoveField(model_name="campaignmessage", name="reminders"),
    ]
